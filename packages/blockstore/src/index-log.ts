/**
 * The index log (docs/formats/blockstore.md, "Index log"): a sequence of
 * commit batches, each appended and fsynced by one commit point. A batch is
 *   magic "CCIX" | u32 seq | u32 body length | body | sha256(magic..body)
 * and is applied whole or not at all: a torn or damaged tail is dropped at
 * open, so only committed index changes survive a crash.
 */
import { createHash } from 'node:crypto'
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { CODEC_RAW, isCodec, type Codec } from '@cachecloud/codec'
import { fsyncPath, isNotFound } from './fs-util.js'

const BATCH_MAGIC = 0x43434958 // "CCIX"
const BATCH_HEADER_BYTES = 12
const BATCH_TRAILER_BYTES = 32
/** A format-2 record: pack, offset, length. */
const OP_PUT = 1
const OP_DELETE = 2
/** A format-3 record: pack, offset, stored length, codec, raw length. */
const OP_PUT3 = 3

export type IndexOp =
  | { type: 'put', key: string, pack: number, offset: number, length: number, codec: Codec, rawLength: number, legacy: boolean }
  | { type: 'delete', key: string }

export interface Batch {
  /** Smallest pack id never used: ids are not reused, even after a pack is deleted. */
  nextPackId: number
  /** Committed (fsynced) length of each pack written since the previous batch. */
  packs: Array<{ id: number, size: number }>
  ops: IndexOp[]
}

function writeU64 (buf: Buffer, at: number, n: number): void {
  buf.writeUInt32BE(Math.floor(n / 0x100000000), at)
  buf.writeUInt32BE(n >>> 0, at + 4)
}

function readU64 (buf: Buffer, at: number): number {
  return buf.readUInt32BE(at) * 0x100000000 + buf.readUInt32BE(at + 4)
}

export function encodeBatch (seq: number, batch: Batch): Buffer {
  let body = 4 + 4 + batch.packs.length * 12 + 4
  for (const op of batch.ops) body += 2 + op.key.length + (op.type === 'put' ? (op.legacy ? 16 : 21) : 0)
  const buf = Buffer.allocUnsafe(BATCH_HEADER_BYTES + body + BATCH_TRAILER_BYTES)
  buf.writeUInt32BE(BATCH_MAGIC, 0)
  buf.writeUInt32BE(seq, 4)
  buf.writeUInt32BE(body, 8)
  let at = BATCH_HEADER_BYTES
  at = buf.writeUInt32BE(batch.nextPackId, at)
  at = buf.writeUInt32BE(batch.packs.length, at)
  for (const pack of batch.packs) {
    at = buf.writeUInt32BE(pack.id, at)
    writeU64(buf, at, pack.size)
    at += 8
  }
  at = buf.writeUInt32BE(batch.ops.length, at)
  for (const op of batch.ops) {
    buf[at++] = op.type === 'put' ? (op.legacy ? OP_PUT : OP_PUT3) : OP_DELETE
    buf[at++] = op.key.length
    at += buf.write(op.key, at, 'latin1')
    if (op.type === 'put') {
      at = buf.writeUInt32BE(op.pack, at)
      writeU64(buf, at, op.offset)
      at += 8
      at = buf.writeUInt32BE(op.length, at)
      if (!op.legacy) {
        buf[at++] = op.codec
        at = buf.writeUInt32BE(op.rawLength, at)
      }
    }
  }
  createHash('sha256').update(buf.subarray(0, at)).digest().copy(buf, at)
  return buf
}

/** Decodes consecutive valid batches from the start of `buf`; stops at the first torn, damaged or out-of-sequence one. */
export function decodeBatches (buf: Buffer): { batches: Batch[], validBytes: number, lastSeq: number } {
  const batches: Batch[] = []
  let at = 0
  let lastSeq = 0
  while (at + BATCH_HEADER_BYTES + BATCH_TRAILER_BYTES <= buf.byteLength) {
    if (buf.readUInt32BE(at) !== BATCH_MAGIC) break
    const seq = buf.readUInt32BE(at + 4)
    const body = buf.readUInt32BE(at + 8)
    const end = at + BATCH_HEADER_BYTES + body
    if ((batches.length > 0 && seq !== lastSeq + 1) || end + BATCH_TRAILER_BYTES > buf.byteLength) break
    const digest = createHash('sha256').update(buf.subarray(at, end)).digest()
    if (!digest.equals(buf.subarray(end, end + BATCH_TRAILER_BYTES))) break
    const batch = decodeBody(buf.subarray(at + BATCH_HEADER_BYTES, end))
    if (batch === undefined) break
    batches.push(batch)
    lastSeq = seq
    at = end + BATCH_TRAILER_BYTES
  }
  return { batches, validBytes: at, lastSeq }
}

function decodeBody (buf: Buffer): Batch | undefined {
  try {
    let at = 0
    const nextPackId = buf.readUInt32BE(at)
    const packCount = buf.readUInt32BE(at + 4)
    at += 8
    const packs: Batch['packs'] = []
    for (let i = 0; i < packCount; i++, at += 12) packs.push({ id: buf.readUInt32BE(at), size: readU64(buf, at + 4) })
    const opCount = buf.readUInt32BE(at)
    at += 4
    const ops: IndexOp[] = []
    for (let i = 0; i < opCount; i++) {
      const type = buf[at]
      const keyLength = buf[at + 1] as number
      const key = buf.toString('latin1', at + 2, at + 2 + keyLength)
      at += 2 + keyLength
      if (type === OP_PUT) {
        const length = buf.readUInt32BE(at + 12)
        ops.push({ type: 'put', key, pack: buf.readUInt32BE(at), offset: readU64(buf, at + 4), length, codec: CODEC_RAW, rawLength: length, legacy: true })
        at += 16
      } else if (type === OP_PUT3) {
        const codec = buf[at + 16] as number
        if (!isCodec(codec)) return undefined
        ops.push({ type: 'put', key, pack: buf.readUInt32BE(at), offset: readU64(buf, at + 4), length: buf.readUInt32BE(at + 12), codec, rawLength: buf.readUInt32BE(at + 17), legacy: false })
        at += 21
      } else if (type === OP_DELETE) {
        ops.push({ type: 'delete', key })
      } else {
        return undefined
      }
    }
    return at === buf.byteLength ? { nextPackId, packs, ops } : undefined
  } catch {
    return undefined // a length field pointing past the body
  }
}

export class IndexLog {
  private handle: FileHandle | undefined
  private size = 0
  private seq = 0

  constructor (private readonly path: string, private readonly dir: string) {}

  get bytes (): number {
    return this.size
  }

  /** Reads the committed batches and cuts off a torn or damaged tail (returned as `droppedBytes`). */
  async open (): Promise<{ batches: Batch[], droppedBytes: number }> {
    await fs.rm(`${this.path}.tmp`, { force: true })
    let buf: Buffer
    try {
      buf = await fs.readFile(this.path)
    } catch (err) {
      if (!isNotFound(err)) throw err
      buf = Buffer.alloc(0)
      await fs.writeFile(this.path, buf, { flag: 'wx' })
      await fsyncPath(this.path)
      await fsyncPath(this.dir)
    }
    const { batches, validBytes, lastSeq } = decodeBatches(buf)
    this.handle = await fs.open(this.path, 'r+')
    if (validBytes < buf.byteLength) {
      await this.handle.truncate(validBytes)
      await this.handle.sync()
    }
    this.size = validBytes
    this.seq = lastSeq
    return { batches, droppedBytes: buf.byteLength - validBytes }
  }

  /** Appends one batch and fsyncs it: the commit point. On failure the log is cut back, so a later append continues after the last good batch. */
  async append (batch: Batch): Promise<void> {
    const handle = this.opened()
    const bytes = encodeBatch(this.seq + 1, batch)
    try {
      let done = 0
      while (done < bytes.byteLength) {
        done += (await handle.write(bytes, done, bytes.byteLength - done, this.size + done)).bytesWritten
      }
      await handle.sync()
    } catch (err) {
      await handle.truncate(this.size).catch(() => {})
      throw err
    }
    this.size += bytes.byteLength
    this.seq++
  }

  /** Replaces the log by one batch holding `batch` (the whole committed index): temp file, fsync, rename, fsync of the directory. */
  async rewrite (batch: Batch): Promise<void> {
    const bytes = encodeBatch(this.seq + 1, batch)
    const tmp = `${this.path}.tmp`
    await fs.writeFile(tmp, bytes)
    await fsyncPath(tmp)
    await this.opened().close()
    this.handle = undefined
    try {
      await fs.rename(tmp, this.path)
      await fsyncPath(this.dir)
    } finally {
      this.handle = await fs.open(this.path, 'r+')
      this.size = (await this.handle.stat()).size
    }
    this.seq++
  }

  async close (): Promise<void> {
    await this.handle?.close()
    this.handle = undefined
  }

  private opened (): FileHandle {
    if (this.handle === undefined) throw new Error('index log is not open')
    return this.handle
  }
}
