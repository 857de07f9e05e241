/**
 * @packageDocumentation
 *
 * Block codecs. A block's CID is always the hash of its raw bytes; on disk and
 * on the wire it travels as an EncodedBlock: raw, or one zstd frame where
 * compression saves at least MIN_SAVING of its bytes. Decoding is bounded by
 * the length the caller expects (from the manifest or the store's index), so
 * a frame that would inflate beyond it is refused before it is inflated.
 * Formats: docs/formats/blockstore.md ("Records"), docs/formats/protocols.md.
 *
 * @example
 * ```ts
 * const encoded = encodeBlock(bytes)          // { codec: CODEC_ZSTD, bytes: <frame>, length: 262144 }
 * const raw = decodeBlock(encoded, 262144)    // throws BlockDecodeError if it is not exactly that
 * ```
 */
import { crc32 } from 'node:zlib'
import { sha256Digest } from '@cachecloud/core'
import { CODEC_RAW, CODEC_ZSTD, DEFAULT_ZSTD_LEVEL, MIN_SAVING } from './constants.js'
import { BlockDecodeError, UnknownCodecError } from './errors.js'
import { defaultCodecThreads, WorkerCodecPool } from './pool.js'
import { zstdCompress, zstdDecompress } from './zstd.js'

export type Codec = typeof CODEC_RAW | typeof CODEC_ZSTD

/** A block as stored or sent: `bytes` encoded with `codec`, decoding to `length` raw bytes. */
export interface EncodedBlock {
  codec: Codec
  bytes: Uint8Array
  /** Length of the raw (decoded) block. */
  length: number
}

export interface EncodeOptions {
  /** zstd level; default DEFAULT_ZSTD_LEVEL. 0 stores raw. */
  level?: number
}

/** Compresses `raw` when that pays, else returns it as a raw block (not copied). */
export function encodeBlock (raw: Uint8Array, options: EncodeOptions = {}): EncodedBlock {
  const level = options.level ?? DEFAULT_ZSTD_LEVEL
  if (level > 0 && raw.byteLength >= 64) {
    const limit = Math.floor(raw.byteLength * (1 - MIN_SAVING))
    const frame = zstdCompress(raw, level, limit)
    if (frame !== undefined) return { codec: CODEC_ZSTD, bytes: frame, length: raw.byteLength }
  }
  return { codec: CODEC_RAW, bytes: raw, length: raw.byteLength }
}

/**
 * The raw bytes of `block`, which must be exactly `block.length` bytes and at
 * most `maxLength`. Throws BlockDecodeError otherwise, before inflating
 * anything beyond the bound. A raw block is returned without a copy; a
 * compressed one is decoded into `into` (at least `block.length` bytes, the
 * result a view of it) when given, else into a new buffer.
 */
export function decodeBlock (block: EncodedBlock, maxLength: number, into?: Uint8Array): Uint8Array {
  if (block.length > maxLength) throw new BlockDecodeError(`block of ${block.length} bytes exceeds the bound of ${maxLength}`)
  if (block.codec === CODEC_RAW) {
    if (block.bytes.byteLength !== block.length) throw new BlockDecodeError(`raw block of ${block.bytes.byteLength} bytes, expected ${block.length}`)
    return block.bytes
  }
  if (block.codec === CODEC_ZSTD) return zstdDecompress(block.bytes, block.length, into)
  throw new UnknownCodecError(`unknown block codec ${String(block.codec)}`)
}

/** A received block checked: its stored form and the crc32 of its bytes, or what is wrong with it. */
export type BlockCheck = { block: EncodedBlock, crc: number } | { problem: string }

/**
 * Checks a block received in its stored form: it decodes (bounded by
 * `maxLength`, into `scratch` when given: the raw bytes are only hashed) to
 * bytes whose SHA-256 is `digest`. Answers the crc32 of the stored bytes,
 * which their record header carries.
 */
export function checkBlock (block: EncodedBlock, digest: Uint8Array, maxLength: number, scratch?: Uint8Array): BlockCheck {
  const problem = verifyBlock(block, digest, maxLength, scratch)
  return problem === undefined ? { block, crc: crc32(block.bytes) } : { problem }
}

/** What is wrong with a stored or received block (does not decode within `maxLength`, or does not hash to `digest`), or undefined when nothing is. */
export function verifyBlock (block: EncodedBlock, digest: Uint8Array, maxLength: number, scratch?: Uint8Array): string | undefined {
  const decoded = decodeVerifiedBlock(block, digest, maxLength, scratch)
  return 'problem' in decoded ? decoded.problem : undefined
}

/** A block's raw bytes (into `scratch` when given, as decodeBlock) once they hash to `digest`, or what is wrong with it, as verifyBlock says. */
export function decodeVerifiedBlock (
  block: EncodedBlock, digest: Uint8Array, maxLength: number, scratch?: Uint8Array
): { raw: Uint8Array } | { problem: string } {
  let raw: Uint8Array
  try {
    raw = decodeBlock(block, maxLength, scratch)
  } catch (err) {
    if (err instanceof BlockDecodeError || err instanceof UnknownCodecError) return { problem: `does not decode: ${err.message}` }
    throw err
  }
  return equalBytes(sha256Digest(raw), digest) ? { raw } : { problem: 'bytes do not hash to its CID' }
}

/** One block inside a run of stored bytes, for CodecPool.verifyRecords. */
export interface StoredRecord {
  /** Where its stored bytes lie in the run. */
  offset: number
  length: number
  codec: Codec
  /** Its decoded length. */
  rawLength: number
  /** The SHA-256 digest its decoded bytes must have. */
  digest: Uint8Array
}

function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false
  for (let i = 0; i < a.byteLength; i++) if (a[i] !== b[i]) return false
  return true
}

/** Codec work off the calling thread. */
export interface CodecPool {
  /** `encodeBlock` on a worker thread, at the pool's level or `level`. */
  encode(raw: Uint8Array, level?: number): Promise<EncodedBlock>
  /**
   * `checkBlock` on a worker thread; the block answered holds the bytes as
   * they came back. `move`: the bytes' buffer is transferred to the thread
   * (detached here) instead of copied; they must span the whole buffer.
   */
  check(block: EncodedBlock, digest: Uint8Array, maxLength: number, move?: boolean): Promise<BlockCheck>
  /**
   * `verifyBlock` of each record of a run of stored bytes (as read from a
   * pack), on one worker thread: per record, its problem or undefined.
   * `move`: as for `check`.
   */
  verifyRecords(bytes: Uint8Array, records: StoredRecord[], maxLength: number, move?: boolean): Promise<Array<string | undefined>>
  /** A stored block decoded, checked against `digest` and encoded again at `level`, on a worker thread (its bytes are copied there). */
  reencode(block: EncodedBlock, digest: Uint8Array, maxLength: number, level: number): Promise<Reencoded>
  /** Ends the threads; pending jobs fail. */
  close(): Promise<void>
}

/** What CodecPool.reencode answers: the block's new form, or why its stored form is wrong. */
export type Reencoded = { block: EncodedBlock } | { problem: string }

export interface CodecPoolInit {
  /** zstd level of `encode`. Default: DEFAULT_ZSTD_LEVEL. */
  level?: number
  /** Worker threads, started on first use. Default: all cores but one, at least one, at most 8. */
  threads?: number
  /** Nice value (0-19) each thread sets for itself, for background work (Linux: per thread). Default: the process's. */
  nice?: number
}

export function createCodecPool (init: CodecPoolInit = {}): CodecPool {
  return new WorkerCodecPool(init.level ?? DEFAULT_ZSTD_LEVEL, init.threads ?? defaultCodecThreads(), init.nice)
}

/** True where `bytes` spans the whole of a plain ArrayBuffer: it can be moved to a codec thread (`move`) without taking others' bytes along. */
export function ownsWholeBuffer (bytes: Uint8Array): boolean {
  return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength && bytes.buffer instanceof ArrayBuffer
}

/** True for a codec id this version reads. */
export function isCodec (value: number): value is Codec {
  return value === CODEC_RAW || value === CODEC_ZSTD
}

export * from './constants.js'
export * from './errors.js'
