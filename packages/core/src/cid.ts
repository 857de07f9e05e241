import { createHash } from 'node:crypto'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha256 } from 'multiformats/hashes/sha2'
import { InvalidCidError } from './errors.js'

/** Multicodec code of raw bytes: every image block and personal chunk. */
export const RAW_CODEC = 0x55
/** Multicodec code of dag-cbor: manifests. */
export const DAG_CBOR_CODEC = 0x71
export const SHA2_256_CODE = sha256.code

/** Synchronous SHA-256 with node:crypto (the async WebCrypto path is slower per block). */
export function sha256Digest (bytes: Uint8Array): Uint8Array {
  return createHash('sha256').update(bytes).digest()
}

/** CIDv1 of `bytes` with the given codec (raw by default) and sha2-256. */
export function cidOf (bytes: Uint8Array, codec: number = RAW_CODEC): CID {
  return cidOfDigest(sha256Digest(bytes), codec)
}

/**
 * CIDv1 of bytes whose SHA-256 is `digest` (computed by the caller, e.g. on
 * the thread that made the bytes). Its bytes are one slice of Node's buffer
 * pool, the multihash a view of them: CID.createV1 would allocate two small
 * arrays on the V8 heap and then move each off it (multiformats checks their
 * `buffer`), a tenth of the calling thread's time in a personal scan's profile.
 */
export function cidOfDigest (digest: Uint8Array, codec: number = RAW_CODEC): CID {
  if (digest.byteLength !== 32) throw new InvalidCidError(`a sha2-256 digest has 32 bytes, not ${digest.byteLength}`)
  // version 1, codec and sha2-256 as one-byte varints, the digest's length, the digest
  if (codec >= 0x80) return CID.createV1(codec, Digest.create(SHA2_256_CODE, digest))
  const pooled = Buffer.allocUnsafe(36)
  const bytes = new Uint8Array(pooled.buffer, pooled.byteOffset, 36) // a plain Uint8Array, as multiformats' own
  bytes[0] = 1; bytes[1] = codec; bytes[2] = SHA2_256_CODE; bytes[3] = 32
  bytes.set(digest, 4)
  return new CID(1, codec, new Digest.Digest(SHA2_256_CODE, 32, bytes.subarray(4), bytes.subarray(2)), bytes)
}

/** True when `bytes` hash to `cid`'s multihash (any codec; sha2-256 only). */
export function bytesMatchCid (cid: CID, bytes: Uint8Array): boolean {
  if (cid.multihash.code !== SHA2_256_CODE) return false
  const expected = cid.multihash.digest
  const actual = sha256Digest(bytes)
  if (expected.byteLength !== actual.byteLength) return false
  for (let i = 0; i < actual.byteLength; i++) {
    if (expected[i] !== actual[i]) return false
  }
  return true
}

/** Parses a CID string, throwing InvalidCidError with the offending text. */
export function parseCid (text: string): CID {
  try {
    return CID.parse(text)
  } catch {
    throw new InvalidCidError(`not a valid CID: ${JSON.stringify(text)}`)
  }
}

/** Decodes a binary CID, throwing InvalidCidError on garbage. */
export function decodeCid (bytes: Uint8Array): CID {
  try {
    return CID.decode(bytes)
  } catch {
    throw new InvalidCidError('not a valid binary CID')
  }
}

export { CID }
