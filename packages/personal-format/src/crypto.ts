import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto'
import { hchacha } from '@noble/ciphers/chacha.js'
import { x25519 } from '@noble/curves/ed25519.js'
import { base58btc } from 'multiformats/bases/base58'
import {
  KDF_CHUNK_KEY, KDF_GEAR_KEY, KDF_NONCE_KEY, KDF_USER_KEY, KDF_WRAP_KEY, NONCE_BYTES, TAG_BYTES, USER_KEY_BYTES, WRAPPED_KEY_BYTES, X25519_KEY_BYTES,
  X25519_KEY_PREFIX
} from './constants.js'
import { DecryptionFailedError, InvalidPersonalFormatError } from './errors.js'

// Encryption of personal data (docs/formats/personal.md#encryption).
// XChaCha20-Poly1305 = HChaCha20 (from @noble/ciphers) to derive a subkey from
// the first 16 nonce bytes, then IETF ChaCha20-Poly1305 (node:crypto, ~1.7 GB/s)
// with nonce 0x00000000 || last 8 bytes. Checked against noble's
// xchacha20poly1305 in the tests.

const SIGMA = new Uint32Array([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574])

function words (bytes: Uint8Array): Uint32Array {
  const copy = new Uint8Array(bytes) // aligned copy
  return new Uint32Array(copy.buffer, 0, copy.byteLength / 4)
}

/** A key's words, made once per key (a scan seals two blocks per file with one key). */
const keyWords = new WeakMap<Uint8Array, Uint32Array>()

function subkey (key: Uint8Array, nonce: Uint8Array): { key: Buffer, iv: Buffer } {
  const out = new Uint32Array(8)
  let k = keyWords.get(key)
  if (k === undefined) { k = words(key); keyWords.set(key, k) }
  hchacha(SIGMA, k, words(nonce.subarray(0, 16)), out)
  const iv = Buffer.alloc(12)
  iv.set(nonce.subarray(16, 24), 4)
  return { key: Buffer.from(out.buffer), iv }
}

/** XChaCha20-Poly1305 seal: returns nonce || ciphertext || tag. */
export function xseal (key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return xsealParts(key, nonce, [plaintext])
}

/** xseal of the concatenation of `parts`, without making it. */
function xsealParts (key: Uint8Array, nonce: Uint8Array, parts: Uint8Array[]): Uint8Array {
  const k = subkey(key, nonce)
  const cipher = createCipheriv('chacha20-poly1305', k.key, k.iv, { authTagLength: TAG_BYTES })
  let length = 0
  for (const p of parts) length += p.byteLength
  const out = Buffer.allocUnsafe(NONCE_BYTES + length + TAG_BYTES)
  out.set(nonce, 0)
  let offset = NONCE_BYTES
  for (const p of parts) {
    const body = cipher.update(p)
    out.set(body, offset); offset += body.byteLength
  }
  const rest = cipher.final()
  out.set(rest, offset); offset += rest.byteLength
  out.set(cipher.getAuthTag(), offset)
  return out
}

/** Opens nonce || ciphertext || tag; throws DecryptionFailedError when it does not authenticate. */
export function xopen (key: Uint8Array, sealed: Uint8Array, what = 'block'): Uint8Array {
  if (sealed.byteLength < NONCE_BYTES + TAG_BYTES) throw new DecryptionFailedError(`${what}: too short to be sealed`)
  const nonce = sealed.subarray(0, NONCE_BYTES)
  const k = subkey(key, nonce)
  const decipher = createDecipheriv('chacha20-poly1305', k.key, k.iv, { authTagLength: TAG_BYTES })
  decipher.setAuthTag(sealed.subarray(sealed.byteLength - TAG_BYTES))
  try {
    const body = decipher.update(sealed.subarray(NONCE_BYTES, sealed.byteLength - TAG_BYTES))
    const rest = decipher.final()
    const out = rest.byteLength === 0 ? body : Buffer.concat([body, rest])
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength)
  } catch (err) {
    throw new DecryptionFailedError(`${what}: does not authenticate (wrong key or tampered)`, { cause: err })
  }
}

/** Keys derived from one user key: never stored, re-derived on load. */
export interface UserKeys {
  /** The 32-byte user key itself (wrapped for the user and the discovery key). */
  userKey: Uint8Array
  /** Encrypts chunks and directory nodes. */
  chunkKey: Uint8Array
  /** Keys the PRF that derives each block's nonce from its plaintext. */
  nonceKey: Uint8Array
  /** Keys the user's FastCDC gear table: chunk boundaries only a holder of K can predict. */
  gearKey: Uint8Array
}

/** The keys sealing needs (all a sealing thread is given). */
export type SealingKeys = Pick<UserKeys, 'chunkKey' | 'nonceKey'>

export function deriveUserKeys (userKey: Uint8Array): UserKeys {
  if (userKey.byteLength !== USER_KEY_BYTES) throw new InvalidPersonalFormatError(`a user key is ${USER_KEY_BYTES} bytes, got ${userKey.byteLength}`)
  const derive = (info: string): Uint8Array => new Uint8Array(hkdfSync('sha256', userKey, new Uint8Array(0), info, 32))
  return { userKey, chunkKey: derive(KDF_CHUNK_KEY), nonceKey: derive(KDF_NONCE_KEY), gearKey: derive(KDF_GEAR_KEY) }
}

/**
 * The user key of a user whose X25519 key pair is given to each of their
 * machines: HKDF-SHA256(private key, empty salt, info KDF_USER_KEY || 0x00 || user).
 * Every machine holding the pair derives the same key, with no exchange, so
 * their snapshots deduplicate and each can open (and authenticate) the others'.
 */
export function deriveUserKeyFromPrivate (privateKey: Uint8Array, user: string): Uint8Array {
  if (privateKey.byteLength !== X25519_KEY_BYTES) throw new InvalidPersonalFormatError(`an X25519 private key is ${X25519_KEY_BYTES} bytes, got ${privateKey.byteLength}`)
  return new Uint8Array(hkdfSync('sha256', privateKey, new Uint8Array(0), `${KDF_USER_KEY}\0${user}`, USER_KEY_BYTES))
}

export function generateUserKey (): Uint8Array {
  return new Uint8Array(randomBytes(USER_KEY_BYTES))
}

/**
 * Convergent encryption scoped to one user: the nonce is
 * HMAC-SHA256(nonceKey, plaintext)[0..24], so identical plaintext of one user
 * seals to identical bytes (one CID, stored once) while another user's key
 * gives unrelated bytes. A nonce repeats only for identical plaintext, which
 * XChaCha20-Poly1305 tolerates (it reveals only that equality, to the key holder).
 */
export function sealBlock (keys: SealingKeys, plaintext: Uint8Array): Uint8Array {
  return sealBlockParts(keys, [plaintext])
}

/** sealBlock of the concatenation of `parts` (the same bytes), without copying them into one plaintext first. */
export function sealBlockParts (keys: SealingKeys, parts: Uint8Array[]): Uint8Array {
  const mac = createHmac('sha256', keys.nonceKey)
  for (const p of parts) mac.update(p)
  return xsealParts(keys.chunkKey, mac.digest().subarray(0, NONCE_BYTES), parts)
}

export function openBlock (keys: UserKeys, sealed: Uint8Array, what?: string): Uint8Array {
  return xopen(keys.chunkKey, sealed, what)
}

// --- key wrapping: an X25519 sealed box ---

export interface X25519KeyPair {
  publicKey: Uint8Array
  privateKey: Uint8Array
}

export function generateX25519KeyPair (): X25519KeyPair {
  const privateKey = x25519.utils.randomSecretKey()
  return { privateKey, publicKey: x25519.getPublicKey(privateKey) }
}

export function x25519PublicKey (privateKey: Uint8Array): Uint8Array {
  return x25519.getPublicKey(privateKey)
}

function wrapKey (shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): Uint8Array {
  const salt = new Uint8Array(X25519_KEY_BYTES * 2)
  salt.set(ephemeral); salt.set(recipient, X25519_KEY_BYTES)
  return new Uint8Array(hkdfSync('sha256', shared, salt, KDF_WRAP_KEY, 32))
}

/** Seals the user key for a recipient's X25519 public key: ephemeral public key || nonce || sealed key || tag. */
export function wrapUserKey (userKey: Uint8Array, recipientPublicKey: Uint8Array): Uint8Array {
  const ephemeral = x25519.utils.randomSecretKey()
  const ephemeralPublic = x25519.getPublicKey(ephemeral)
  const key = wrapKey(x25519.getSharedSecret(ephemeral, recipientPublicKey), ephemeralPublic, recipientPublicKey)
  const out = new Uint8Array(WRAPPED_KEY_BYTES)
  out.set(ephemeralPublic)
  out.set(xseal(key, randomBytes(NONCE_BYTES), userKey), X25519_KEY_BYTES)
  return out
}

/** Opens a wrapped user key with the recipient's X25519 private key. */
export function unwrapUserKey (wrapped: Uint8Array, privateKey: Uint8Array): Uint8Array {
  if (wrapped.byteLength !== WRAPPED_KEY_BYTES) throw new InvalidPersonalFormatError(`a wrapped key is ${WRAPPED_KEY_BYTES} bytes, got ${wrapped.byteLength}`)
  const ephemeralPublic = wrapped.subarray(0, X25519_KEY_BYTES)
  const recipient = x25519.getPublicKey(privateKey)
  const key = wrapKey(x25519.getSharedSecret(privateKey, ephemeralPublic), ephemeralPublic, recipient)
  return xopen(key, wrapped.subarray(X25519_KEY_BYTES), 'wrapped user key')
}

/** `x25519:<base58btc>` text form of a 32-byte X25519 key. */
export function formatX25519Key (key: Uint8Array): string {
  return X25519_KEY_PREFIX + base58btc.encode(key)
}

export function parseX25519Key (text: string): Uint8Array {
  if (!text.startsWith(X25519_KEY_PREFIX)) throw new InvalidPersonalFormatError(`expected ${X25519_KEY_PREFIX}<base58btc>, got ${JSON.stringify(text.slice(0, 20))}`)
  let key: Uint8Array
  try { key = base58btc.decode(text.slice(X25519_KEY_PREFIX.length)) } catch (err) { throw new InvalidPersonalFormatError('bad base58btc in X25519 key', { cause: err }) }
  if (key.byteLength !== X25519_KEY_BYTES) throw new InvalidPersonalFormatError(`an X25519 key is ${X25519_KEY_BYTES} bytes, got ${key.byteLength}`)
  return key
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b)
}
