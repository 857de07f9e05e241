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
import { CODEC_RAW, CODEC_ZSTD, DEFAULT_ZSTD_LEVEL, MIN_SAVING } from './constants.js'
import { BlockDecodeError, UnknownCodecError } from './errors.js'
import { defaultEncoderThreads, WorkerEncoderPool } from './pool.js'
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
 * anything beyond the bound. A raw block is returned without a copy.
 */
export function decodeBlock (block: EncodedBlock, maxLength: number): Uint8Array {
  if (block.length > maxLength) throw new BlockDecodeError(`block of ${block.length} bytes exceeds the bound of ${maxLength}`)
  if (block.codec === CODEC_RAW) {
    if (block.bytes.byteLength !== block.length) throw new BlockDecodeError(`raw block of ${block.bytes.byteLength} bytes, expected ${block.length}`)
    return block.bytes
  }
  if (block.codec === CODEC_ZSTD) return zstdDecompress(block.bytes, block.length)
  throw new UnknownCodecError(`unknown block codec ${String(block.codec)}`)
}

/** Encodes blocks off the calling thread. */
export interface EncoderPool {
  /** `encodeBlock` on a worker thread, at the pool's level or `level`. */
  encode(raw: Uint8Array, level?: number): Promise<EncodedBlock>
  /** Ends the threads; pending encodes fail. */
  close(): Promise<void>
}

export interface EncoderPoolInit {
  /** zstd level. Default: DEFAULT_ZSTD_LEVEL. */
  level?: number
  /** Worker threads, started on first use. Default: all cores but one, at least one, at most 8. */
  threads?: number
}

export function createEncoderPool (init: EncoderPoolInit = {}): EncoderPool {
  return new WorkerEncoderPool(init.level ?? DEFAULT_ZSTD_LEVEL, init.threads ?? defaultEncoderThreads())
}

/** True for a codec id this version reads. */
export function isCodec (value: number): value is Codec {
  return value === CODEC_RAW || value === CODEC_ZSTD
}

export * from './constants.js'
export * from './errors.js'
