/**
 * Byte layout of pack files (docs/formats/blockstore.md, "Pack files").
 * A pack is an 8-byte file header followed by self-describing records:
 *   magic "CCBK" | u8 cid length | u32 BE data length | cid bytes | data
 * so a pack can be scanned, and its records verified, without the index.
 */
import { MAX_BLOCK_BYTES } from './constants.js'

export const PACK_HEADER = Buffer.from('CCPACK2\n', 'latin1')
const RECORD_MAGIC = 0x4343424b // "CCBK"
const RECORD_FIXED_BYTES = 9
/** Longest CID a record may carry (a sha2-256 CIDv1 is at most 44 bytes). */
export const MAX_RECORD_CID_BYTES = 64
/** Bytes to read to be sure of holding any record header. */
export const MAX_RECORD_HEADER_BYTES = RECORD_FIXED_BYTES + MAX_RECORD_CID_BYTES

export function recordHeaderBytes (cidLength: number): number {
  return RECORD_FIXED_BYTES + cidLength
}

/** Writes a record header at `at`; returns its length. */
export function writeRecordHeader (target: Buffer, at: number, cid: Uint8Array, dataLength: number): number {
  target.writeUInt32BE(RECORD_MAGIC, at)
  target[at + 4] = cid.byteLength
  target.writeUInt32BE(dataLength, at + 5)
  target.set(cid, at + RECORD_FIXED_BYTES)
  return RECORD_FIXED_BYTES + cid.byteLength
}

export interface RecordHeader {
  cid: Buffer
  dataLength: number
  headerBytes: number
}

/** Parses the record header at the start of `bytes`; undefined when malformed or incomplete. */
export function parseRecordHeader (bytes: Buffer): RecordHeader | undefined {
  if (bytes.byteLength < RECORD_FIXED_BYTES || bytes.readUInt32BE(0) !== RECORD_MAGIC) return undefined
  const cidLength = bytes[4] as number
  const dataLength = bytes.readUInt32BE(5)
  const headerBytes = RECORD_FIXED_BYTES + cidLength
  if (cidLength === 0 || cidLength > MAX_RECORD_CID_BYTES || dataLength > MAX_BLOCK_BYTES || bytes.byteLength < headerBytes) return undefined
  return { cid: bytes.subarray(RECORD_FIXED_BYTES, headerBytes), dataLength, headerBytes }
}

/** `packs/<8 lowercase hex digits>.pack` */
export function packFileName (id: number): string {
  return `${id.toString(16).padStart(8, '0')}.pack`
}

export function packIdOf (name: string): number | undefined {
  const match = /^([0-9a-f]{8})\.pack$/.exec(name)
  return match === null ? undefined : parseInt(match[1] as string, 16)
}
