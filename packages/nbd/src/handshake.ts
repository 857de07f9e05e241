import type { Socket } from 'node:net'
import {
  FLAG_C_FIXED_NEWSTYLE, FLAG_C_NO_ZEROES, FLAG_FIXED_NEWSTYLE, FLAG_NO_ZEROES, IHAVEOPT, INFO_BLOCK_SIZE, INFO_DESCRIPTION, INFO_EXPORT, INFO_NAME,
  MAX_OPTION_BYTES, MAX_OPTIONS, MAX_REQUEST_BYTES, NBD_MAGIC, OPT_ABORT, OPT_EXPORT_NAME, OPT_GO, OPT_INFO, OPT_LIST, OPTION_REPLY_MAGIC,
  PREFERRED_BLOCK_SIZE, REP_ACK, REP_ERR_INVALID, REP_ERR_UNKNOWN, REP_ERR_UNSUP, REP_INFO, REP_SERVER
} from './constants.js'
import { NbdProtocolError } from './errors.js'
import type { SocketReader } from './socket-reader.js'

/** What the handshake needs to know of one export. */
export interface HandshakeExport {
  name: string
  description: string
  size: number
  /** Transmission flags. */
  flags: number
}

/** Writes the server greeting of the fixed newstyle handshake (docs/formats/nbd.md, "Handshake"). */
export function sendGreeting (socket: Socket): void {
  const b = Buffer.alloc(18)
  b.writeBigUInt64BE(NBD_MAGIC, 0)
  b.writeBigUInt64BE(IHAVEOPT, 8)
  b.writeUInt16BE(FLAG_FIXED_NEWSTYLE | FLAG_NO_ZEROES, 16)
  socket.write(b)
}

function optionReply (socket: Socket, option: number, type: number, data: Uint8Array = new Uint8Array(0)): void {
  const h = Buffer.alloc(20)
  h.writeBigUInt64BE(OPTION_REPLY_MAGIC, 0)
  h.writeUInt32BE(option, 8)
  h.writeUInt32BE(type >>> 0, 12)
  h.writeUInt32BE(data.byteLength, 16)
  socket.write(h)
  if (data.byteLength > 0) socket.write(data)
}

function errorReply (socket: Socket, option: number, type: number, message: string): void {
  optionReply(socket, option, type, Buffer.from(message, 'utf8'))
}

function infoExport (e: HandshakeExport): Buffer {
  const b = Buffer.alloc(12)
  b.writeUInt16BE(INFO_EXPORT, 0)
  b.writeBigUInt64BE(BigInt(e.size), 2)
  b.writeUInt16BE(e.flags, 10)
  return b
}

function withType (type: number, data: Buffer): Buffer {
  const t = Buffer.alloc(2)
  t.writeUInt16BE(type, 0)
  return Buffer.concat([t, data])
}

/**
 * Negotiates options until the client picks an export (EXPORT_NAME or GO) or leaves (ABORT,
 * end of stream). Returns the export chosen, or undefined when the connection should close.
 */
export async function negotiate (
  socket: Socket,
  reader: SocketReader,
  find: (name: string) => HandshakeExport | undefined,
  list: () => HandshakeExport[]
): Promise<HandshakeExport | undefined> {
  const clientFlags = (await reader.readExactly(4)).readUInt32BE(0)
  if ((clientFlags & ~(FLAG_C_FIXED_NEWSTYLE | FLAG_C_NO_ZEROES)) !== 0) throw new NbdProtocolError(`unknown client flags 0x${clientFlags.toString(16)}`)
  const noZeroes = (clientFlags & FLAG_C_NO_ZEROES) !== 0
  for (let n = 0; n < MAX_OPTIONS; n++) {
    const header = await reader.read(16)
    if (header === undefined) return undefined
    if (header.readBigUInt64BE(0) !== IHAVEOPT) throw new NbdProtocolError('option without the IHAVEOPT magic')
    const option = header.readUInt32BE(8)
    const length = header.readUInt32BE(12)
    if (length > MAX_OPTION_BYTES) throw new NbdProtocolError(`option ${option} of ${length} bytes (at most ${MAX_OPTION_BYTES})`)
    const data = length === 0 ? Buffer.alloc(0) : await reader.readExactly(length)
    switch (option) {
      case OPT_EXPORT_NAME: {
        // no error reply is possible here: an unknown name closes the connection
        const chosen = find(data.toString('utf8'))
        if (chosen === undefined) return undefined
        const b = Buffer.alloc(noZeroes ? 10 : 134)
        b.writeBigUInt64BE(BigInt(chosen.size), 0)
        b.writeUInt16BE(chosen.flags, 8)
        socket.write(b)
        return chosen
      }
      case OPT_ABORT:
        optionReply(socket, option, REP_ACK)
        return undefined
      case OPT_LIST: {
        if (length !== 0) { errorReply(socket, option, REP_ERR_INVALID, 'LIST takes no data'); break }
        for (const e of list()) {
          const name = Buffer.from(e.name, 'utf8')
          const b = Buffer.alloc(4)
          b.writeUInt32BE(name.byteLength, 0)
          optionReply(socket, option, REP_SERVER, Buffer.concat([b, name, Buffer.from(e.description, 'utf8')]))
        }
        optionReply(socket, option, REP_ACK)
        break
      }
      case OPT_INFO:
      case OPT_GO: {
        const nameLength = length >= 4 ? data.readUInt32BE(0) : -1
        const requests = nameLength >= 0 && length >= 6 + nameLength ? data.readUInt16BE(4 + nameLength) : -1
        if (requests < 0 || length !== 6 + nameLength + 2 * requests) { errorReply(socket, option, REP_ERR_INVALID, 'malformed INFO/GO request'); break }
        const name = data.subarray(4, 4 + nameLength).toString('utf8')
        const chosen = find(name)
        if (chosen === undefined) { errorReply(socket, option, REP_ERR_UNKNOWN, `no export named "${name}"`); break }
        const wanted = new Set<number>()
        for (let i = 0; i < requests; i++) wanted.add(data.readUInt16BE(6 + nameLength + 2 * i))
        optionReply(socket, option, REP_INFO, infoExport(chosen))
        if (wanted.has(INFO_NAME)) optionReply(socket, option, REP_INFO, withType(INFO_NAME, Buffer.from(chosen.name, 'utf8')))
        if (wanted.has(INFO_DESCRIPTION)) optionReply(socket, option, REP_INFO, withType(INFO_DESCRIPTION, Buffer.from(chosen.description, 'utf8')))
        if (wanted.has(INFO_BLOCK_SIZE)) {
          const b = Buffer.alloc(12)
          b.writeUInt32BE(1, 0)
          b.writeUInt32BE(PREFERRED_BLOCK_SIZE, 4)
          b.writeUInt32BE(MAX_REQUEST_BYTES, 8)
          optionReply(socket, option, REP_INFO, withType(INFO_BLOCK_SIZE, b))
        }
        optionReply(socket, option, REP_ACK)
        if (option === OPT_GO) return chosen
        break
      }
      default:
        // STARTTLS, STRUCTURED_REPLY, meta contexts, extended headers: not offered; clients fall back
        errorReply(socket, option, REP_ERR_UNSUP, `option ${option} is not supported`)
    }
  }
  throw new NbdProtocolError(`more than ${MAX_OPTIONS} options without choosing an export`)
}
