import { CODEC_ZSTD, decodeBlock, encodeBlock } from '@cachecloud/codec'
import { CHUNK_FORMAT, CHUNK_INNER, CHUNK_ZSTD_LEVEL, MAX_CHUNK_BYTES } from './constants.js'
import { openBlock, sealBlockParts, type SealingKeys, type UserKeys } from './crypto.js'
import { ChunkDecodeError } from './errors.js'

// Sealed chunks (docs/formats/personal.md#sealed-chunks). Ciphertext does not
// compress, so a chunk is compressed before it is sealed, inside the AEAD:
// format 2's plaintext is a one-byte flag, then the chunk as it is (0) or
// u32be(raw length) || one zstd frame (1). Format 1 (before compression) is
// the chunk as it is, with no flag; the file entry says which format its
// chunks are in, so old snapshots read as before.

export type ChunkFormat = typeof CHUNK_FORMAT.plain | typeof CHUNK_FORMAT.flagged

const RAW_FLAG = Uint8Array.of(CHUNK_INNER.raw)

/** The plaintext a format-2 chunk seals, in parts: the flag, then the chunk raw or compressed (where that saves at least the codec's MIN_SAVING). */
function innerParts (raw: Uint8Array, level: number): Uint8Array[] {
  const encoded = encodeBlock(raw, { level })
  if (encoded.codec !== CODEC_ZSTD) return [RAW_FLAG, raw]
  const head = Buffer.allocUnsafe(5)
  head[0] = CHUNK_INNER.zstd
  head.writeUInt32BE(raw.byteLength, 1)
  return [head, encoded.bytes]
}

/** The plaintext a format-2 chunk seals: the flag, then the chunk raw or compressed (where that saves at least the codec's MIN_SAVING). */
export function chunkInner (raw: Uint8Array, level = CHUNK_ZSTD_LEVEL): Uint8Array {
  return Buffer.concat(innerParts(raw, level))
}

/**
 * Seals a chunk in format 2. The nonce is the keyed hash of the sealed
 * plaintext (flag and payload), as for every sealed block: equal chunks of one
 * user seal to one block (one CID), and a nonce never serves two plaintexts.
 */
export function sealChunk (keys: SealingKeys, raw: Uint8Array, level = CHUNK_ZSTD_LEVEL): Uint8Array {
  // sealed from its parts: the chunk is not copied behind its flag first
  return sealBlockParts(keys, innerParts(raw, level))
}

/**
 * The chunk inside a format-2 plaintext. A compressed one must state a raw
 * length of at most MAX_CHUNK_BYTES (the chunker's maximum) and hold one zstd
 * frame whose own content size is exactly that: checked before anything is
 * inflated, so a frame cannot make a reader allocate more than one chunk.
 */
export function decodeChunkInner (inner: Uint8Array, what = 'chunk'): Uint8Array {
  if (inner.byteLength < 1) throw new ChunkDecodeError(`${what}: empty sealed plaintext`)
  if (inner[0] === CHUNK_INNER.raw) {
    if (inner.byteLength - 1 > MAX_CHUNK_BYTES) throw new ChunkDecodeError(`${what}: ${inner.byteLength - 1} bytes, more than the chunk maximum ${MAX_CHUNK_BYTES}`)
    return inner.subarray(1)
  }
  if (inner[0] !== CHUNK_INNER.zstd) throw new ChunkDecodeError(`${what}: unknown chunk flag ${inner[0]}`)
  if (inner.byteLength < 5) throw new ChunkDecodeError(`${what}: compressed chunk without its length`)
  const length = Buffer.from(inner.buffer, inner.byteOffset, inner.byteLength).readUInt32BE(1)
  if (length > MAX_CHUNK_BYTES) throw new ChunkDecodeError(`${what}: compressed chunk claims ${length} bytes, more than the chunk maximum ${MAX_CHUNK_BYTES}`)
  try {
    return decodeBlock({ codec: CODEC_ZSTD, bytes: inner.subarray(5), length }, MAX_CHUNK_BYTES)
  } catch (err) {
    throw new ChunkDecodeError(`${what}: ${(err as Error).message}`, { cause: err })
  }
}

/** Opens a sealed chunk of the given format (the file entry's `z`, 1 when absent). */
export function openChunk (keys: UserKeys, sealed: Uint8Array, format: ChunkFormat, what = 'chunk'): Uint8Array {
  const inner = openBlock(keys, sealed, what)
  return format === CHUNK_FORMAT.plain ? inner : decodeChunkInner(inner, what)
}
