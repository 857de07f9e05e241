/**
 * Reads one block's record back from its pack: for a format-3 record the
 * header is read with the data, and the record must name the same CID, have
 * the indexed lengths and codec, and match its crc32; a format-2 record is
 * only its data (the caller hashes it). Any mismatch or short read is
 * `undefined`: the caller treats the copy as corrupt.
 */
import { BlockDecodeError, decodeBlock, type EncodedBlock } from '@cachecloud/codec'
import { bytesMatchCid } from '@cachecloud/core'
import type { CID } from 'multiformats/cid'
import { MAX_BLOCK_BYTES } from './constants.js'
import { isNotFound } from './fs-util.js'
import type { Location } from './pack-appender.js'
import { crcMatches, headerBytesOf, parseRecordHeader } from './pack-format.js'
import type { PackReaders } from './pack-readers.js'

export async function readRecord (readers: PackReaders, key: string, entry: Location): Promise<EncodedBlock | undefined> {
  const headerBytes = headerBytesOf(entry.legacy, key.length)
  let bytes: Buffer
  try {
    bytes = await readers.read(entry.pack, entry.offset - headerBytes, headerBytes + entry.length)
  } catch (err) {
    if (isNotFound(err)) return undefined
    throw err
  }
  if (bytes.byteLength !== headerBytes + entry.length) return undefined
  const header = parseRecordHeader(bytes)
  if (header === undefined || header.headerBytes !== headerBytes || header.legacy !== entry.legacy) return undefined
  if (header.cid.toString('latin1') !== key || header.dataLength !== entry.length || header.rawLength !== entry.rawLength || header.codec !== entry.codec) return undefined
  const data = bytes.subarray(headerBytes)
  if (!crcMatches(header, data)) return undefined
  return { codec: entry.codec, bytes: data, length: entry.rawLength }
}

/** The raw bytes of a stored block if they decode (bounded by MAX_BLOCK_BYTES) and hash to `cid`; undefined for a damaged copy. */
export function decodeVerified (cid: CID, block: EncodedBlock): Uint8Array | undefined {
  let bytes: Uint8Array
  try {
    bytes = decodeBlock(block, MAX_BLOCK_BYTES)
  } catch (err) {
    if (err instanceof BlockDecodeError) return undefined
    throw err
  }
  return bytesMatchCid(cid, bytes) ? bytes : undefined
}
