import { sign, verify } from 'node:crypto'
import type { ImageManifest, UnsignedImageManifest } from './types.js'
import { signingBytes } from './codec.js'
import { InvalidSignatureError, UntrustedPublisherError } from './errors.js'
import { formatPublicKey, parsePublicKey, publicKeyObject, type PublisherKey } from './keys.js'

/** The publisher keys a CachePoint accepts manifests from. */
export interface TrustStore {
  isTrusted(publicKey: Uint8Array): boolean
  /** Trusted keys, formatted (`ed25519:...`). */
  list(): string[]
}

export function createTrustStore (keys: Iterable<string>): TrustStore {
  const trusted = new Set<string>()
  for (const key of keys) trusted.add(formatPublicKey(parsePublicKey(key)))
  return {
    isTrusted: (publicKey) => trusted.has(formatPublicKey(publicKey)),
    list: () => [...trusted]
  }
}

export function signManifest (unsigned: UnsignedImageManifest, key: PublisherKey): ImageManifest {
  const withKey: UnsignedImageManifest = { ...unsigned, publisher: key.publicKey }
  const signature = new Uint8Array(sign(null, signingBytes(withKey), key.privateKey))
  return { ...withKey, signature }
}

/** Throws UntrustedPublisherError or InvalidSignatureError unless a trusted key signed exactly this manifest. */
export function verifyManifest (manifest: ImageManifest, trust: TrustStore): void {
  const ref = `${manifest.name}@${manifest.version}`
  if (!trust.isTrusted(manifest.publisher)) {
    throw new UntrustedPublisherError(`manifest ${ref} is signed by ${formatPublicKey(manifest.publisher)}, which is not a trusted publisher`)
  }
  const ok = verify(null, signingBytes(manifest), publicKeyObject(manifest.publisher), manifest.signature)
  if (!ok) throw new InvalidSignatureError(`manifest ${ref} has an invalid signature`)
}
