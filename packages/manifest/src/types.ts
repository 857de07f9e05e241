import type { CID } from 'multiformats/cid'

/** Format tag of image manifests; see docs/formats/image.md. */
export const IMAGE_MANIFEST_FORMAT = 'cachecloud/image-manifest/1'

/**
 * One immutable version of an image: its block list and who published it.
 * Encoded as dag-cbor; its CID (dag-cbor, sha2-256) names the version.
 */
export interface ImageManifest {
  format: typeof IMAGE_MANIFEST_FORMAT
  name: string
  version: string
  /** Manifest CID of the version this one was derived from, if any. */
  parent: CID | null
  /** Image length in bytes. */
  size: number
  /** Bytes per block; the last block may be shorter. */
  blockSize: number
  /** One entry per block: its raw CID, or null for an all-zero block (a hole). */
  blocks: Array<CID | null>
  /** ISO-8601 UTC time of publication. */
  createdAt: string
  /** Raw 32-byte ed25519 public key of the publisher. */
  publisher: Uint8Array
  /** ed25519 signature over the dag-cbor encoding of every other field. */
  signature: Uint8Array
}

export type UnsignedImageManifest = Omit<ImageManifest, 'signature'>

/** Length of block `index` in a manifest (the last one may be short). */
export function blockLength (manifest: Pick<ImageManifest, 'size' | 'blockSize'>, index: number): number {
  const start = index * manifest.blockSize
  return Math.min(manifest.blockSize, manifest.size - start)
}
