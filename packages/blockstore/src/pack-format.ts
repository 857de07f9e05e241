/**
 * Byte layout of pack files (docs/formats/blockstore.md, "Pack files").
 * A pack is an 8-byte file header followed by self-describing records:
 *   format 3: magic "CCB3" | u8 cid length | u8 codec | u32 BE stored length | u32 BE raw length | u32 BE crc32(stored) | cid | stored bytes
 *   format 2: magic "CCBK" | u8 cid length | u32 BE data length | cid | data   (read, never written)
 * so a pack can be scanned, and its records verified, without the index.
 */
import { crc32 } from 'node:zlib'
import { CODEC_RAW, isCodec, type Codec, type EncodedBlock } from '@cachecloud/codec'
import { MAX_BLOCK_BYTES } from './constants.js'

export const PACK_HEADER = Buffer.from('CCPACK3\n', 'latin1')
/** Header of packs written by format 2 (their records are read as they are). */
export const PACK_HEADER_V2 = Buffer.from('CCPACK2\n', 'latin1')
const RECORD_MAGIC = 0x43434233 // "CCB3"
const RECORD_MAGIC_V2 = 0x4343424b // "CCBK"
const RECORD_FIXED_BYTES = 18
const RECORD_FIXED_BYTES_V2 = 9
/** Longest CID a record may carry (a sha2-256 CIDv1 is at most 44 bytes). */
export const MAX_RECORD_CID_BYTES = 64
/** Bytes to read to be sure of holding any record header. */
export const MAX_RECORD_HEADER_BYTES = RECORD_FIXED_BYTES + MAX_RECORD_CID_BYTES

export function isPackHeader (bytes: Buffer): boolean {
  return bytes.equals(PACK_HEADER) || bytes.equals(PACK_HEADER_V2)
}

/** The header length of a record written now (format 3). */
export function recordHeaderBytes (cidLength: number): number {
  return RECORD_FIXED_BYTES + cidLength
}

/** The header length of a record of either format. */
export function headerBytesOf (legacy: boolean, cidLength: number): number {
  return (legacy ? RECORD_FIXED_BYTES_V2 : RECORD_FIXED_BYTES) + cidLength
}

/** Writes a format-3 record header for `block` (its stored bytes follow the header) at `at`; returns its length. `crc`: of the stored bytes, if already known. */
export function writeRecordHeader (target: Buffer, at: number, cid: Uint8Array, block: EncodedBlock, crc = crc32(block.bytes)): number {
  target.writeUInt32BE(RECORD_MAGIC, at)
  target[at + 4] = cid.byteLength
  target[at + 5] = block.codec
  target.writeUInt32BE(block.bytes.byteLength, at + 6)
  target.writeUInt32BE(block.length, at + 10)
  target.writeUInt32BE(crc, at + 14)
  target.set(cid, at + RECORD_FIXED_BYTES)
  return RECORD_FIXED_BYTES + cid.byteLength
}

export interface RecordHeader {
  cid: Buffer
  codec: Codec
  /** Stored bytes that follow the header. */
  dataLength: number
  rawLength: number
  /** crc32 of the stored bytes; undefined for format-2 records (verified by hashing). */
  crc: number | undefined
  headerBytes: number
  legacy: boolean
}

/** Parses the record header at the start of `bytes`; undefined when malformed or incomplete. */
export function parseRecordHeader (bytes: Buffer): RecordHeader | undefined {
  if (bytes.byteLength < RECORD_FIXED_BYTES_V2) return undefined
  const magic = bytes.readUInt32BE(0)
  const cidLength = bytes[4] as number
  if (cidLength === 0 || cidLength > MAX_RECORD_CID_BYTES) return undefined
  if (magic === RECORD_MAGIC_V2) {
    const dataLength = bytes.readUInt32BE(5)
    const headerBytes = RECORD_FIXED_BYTES_V2 + cidLength
    if (dataLength > MAX_BLOCK_BYTES || bytes.byteLength < headerBytes) return undefined
    return {
      cid: bytes.subarray(RECORD_FIXED_BYTES_V2, headerBytes),
      codec: CODEC_RAW,
      dataLength,
      rawLength: dataLength,
      crc: undefined,
      headerBytes,
      legacy: true
    }
  }
  if (magic !== RECORD_MAGIC || bytes.byteLength < RECORD_FIXED_BYTES) return undefined
  const codec = bytes[5] as number
  const dataLength = bytes.readUInt32BE(6)
  const rawLength = bytes.readUInt32BE(10)
  const headerBytes = RECORD_FIXED_BYTES + cidLength
  if (!isCodec(codec) || dataLength > MAX_BLOCK_BYTES || rawLength > MAX_BLOCK_BYTES || bytes.byteLength < headerBytes) return undefined
  if (codec === CODEC_RAW && dataLength !== rawLength) return undefined
  return { cid: bytes.subarray(RECORD_FIXED_BYTES, headerBytes), codec, dataLength, rawLength, crc: bytes.readUInt32BE(14), headerBytes, legacy: false }
}

/** True when `data` are the stored bytes the header describes (format 3: crc32; format 2: not checkable here). */
export function crcMatches (header: RecordHeader, data: Uint8Array): boolean {
  return header.crc === undefined || crc32(data) === header.crc
}

/** `packs/<8 lowercase hex digits>.pack` */
export function packFileName (id: number): string {
  return `${id.toString(16).padStart(8, '0')}.pack`
}

export function packIdOf (name: string): number | undefined {
  const match = /^([0-9a-f]{8})\.pack$/.exec(name)
  return match === null ? undefined : parseInt(match[1] as string, 16)
}
