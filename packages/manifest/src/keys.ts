import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '@cachecloud/core'
import { base58btc } from 'multiformats/bases/base58'
import { PUBLIC_KEY_PREFIX } from './constants.js'
import { InvalidPublicKeyError, InvalidPublisherKeyFileError } from './errors.js'

/** A publisher's ed25519 signing key. */
export interface PublisherKey {
  /** Raw 32-byte public key, as carried in manifests. */
  publicKey: Uint8Array
  privateKey: KeyObject
}

function rawPublicKey (key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' })
  if (jwk.x === undefined) throw new InvalidPublisherKeyFileError('not an ed25519 key')
  return new Uint8Array(Buffer.from(jwk.x, 'base64url'))
}

export function generatePublisherKey (): PublisherKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { privateKey, publicKey: rawPublicKey(publicKey) }
}

/** Writes the key as PKCS#8 PEM, mode 0600, atomically. */
export async function savePublisherKey (path: string, key: PublisherKey): Promise<void> {
  const pem = key.privateKey.export({ format: 'pem', type: 'pkcs8' })
  await writeFileAtomic(path, pem, { mode: 0o600 })
}

export async function loadPublisherKey (path: string): Promise<PublisherKey> {
  let pem: string
  try {
    pem = await readFile(path, 'utf8')
  } catch (err) {
    throw new InvalidPublisherKeyFileError(`cannot read publisher key ${path}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const privateKey = createPrivateKey(pem)
    if (privateKey.asymmetricKeyType !== 'ed25519') throw new Error(`key type is ${String(privateKey.asymmetricKeyType)}`)
    return { privateKey, publicKey: rawPublicKey(createPublicKey(privateKey)) }
  } catch (err) {
    throw new InvalidPublisherKeyFileError(`publisher key ${path} is not an ed25519 PKCS#8 PEM key`, { cause: err })
  }
}

/** `ed25519:<base58btc>`: how keys appear in config files and CLI output. */
export function formatPublicKey (publicKey: Uint8Array): string {
  return PUBLIC_KEY_PREFIX + base58btc.baseEncode(publicKey)
}

export function parsePublicKey (text: string): Uint8Array {
  if (!text.startsWith(PUBLIC_KEY_PREFIX)) {
    throw new InvalidPublicKeyError(`publisher key ${JSON.stringify(text)} must start with ${PUBLIC_KEY_PREFIX}`)
  }
  let raw: Uint8Array
  try {
    raw = base58btc.baseDecode(text.slice(PUBLIC_KEY_PREFIX.length))
  } catch {
    throw new InvalidPublicKeyError(`publisher key ${JSON.stringify(text)} is not valid base58`)
  }
  if (raw.byteLength !== 32) throw new InvalidPublicKeyError(`publisher key ${JSON.stringify(text)} is not 32 bytes`)
  return raw
}

/** A node:crypto public KeyObject from a raw 32-byte ed25519 key. */
export function publicKeyObject (raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
}
