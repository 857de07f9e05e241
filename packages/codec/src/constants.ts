// Codec ids on disk and on the wire (docs/formats/blockstore.md, docs/formats/protocols.md) and defaults.

/** A block's bytes as they are. */
export const CODEC_RAW = 0
/** One zstd frame (RFC 8878) with its content size, decoding to the block's bytes. */
export const CODEC_ZSTD = 1

/** zstd level blocks are compressed at (measured on ext4 OS content: level 3 is ~2% smaller than 1 at the same speed per byte kept). */
export const DEFAULT_ZSTD_LEVEL = 3
/** A block is kept compressed only when that saves at least this share of its bytes; otherwise raw (random or already-compressed data). */
export const MIN_SAVING = 1 / 32
