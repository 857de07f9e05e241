/**
 * @packageDocumentation
 *
 * Image manifests on the wire and on disk: dag-cbor encoding with strict
 * validation on decode, ed25519 publisher keys (node:crypto), signing, and
 * verification against the set of publisher keys a CachePoint trusts.
 * Format: docs/formats/image.md.
 *
 * @example
 * ```ts
 * const key = generatePublisherKey()
 * const manifest = signManifest(unsigned, key)
 * const { bytes, cid } = encodeManifest(manifest)
 * const decoded = decodeManifest(bytes)                 // InvalidManifestError on garbage
 * verifyManifest(decoded, createTrustStore([formatPublicKey(key.publicKey)]))
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export * from './codec.js'
export * from './keys.js'
export * from './signing.js'
export * from './types.js'
