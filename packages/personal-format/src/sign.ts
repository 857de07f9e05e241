import { hkdfSync } from 'node:crypto'
import * as dagCbor from '@ipld/dag-cbor'
import { ed25519 } from '@noble/curves/ed25519.js'
import { KDF_SIGN_KEY, RECORD_SIGNATURE_BYTES, SIGN_CONTEXT, X25519_KEY_BYTES } from './constants.js'
import { InvalidPersonalFormatError } from './errors.js'
import type { SnapshotRecord } from './tree.js'

// Snapshot records signed by the user's machines (docs/formats/personal.md#signatures).
// The discovery key opens every user key, so whoever holds it could seal a
// tree and write a record the user's machines would merge; the signing key
// is derived from the user's own X25519 private key, which only the user's
// machines hold, and each of them derives the same one (and its public key)
// with no exchange.

export interface SigningKey {
  seed: Uint8Array
  publicKey: Uint8Array
}

/** The user's Ed25519 snapshot-signing key: seed = HKDF-SHA256(private key, empty salt, info KDF_SIGN_KEY || 0x00 || user). */
export function deriveSigningKey (privateKey: Uint8Array, user: string): SigningKey {
  if (privateKey.byteLength !== X25519_KEY_BYTES) throw new InvalidPersonalFormatError(`an X25519 private key is ${X25519_KEY_BYTES} bytes, got ${privateKey.byteLength}`)
  const seed = new Uint8Array(hkdfSync('sha256', privateKey, new Uint8Array(0), `${KDF_SIGN_KEY}\0${user}`, 32))
  return { seed, publicKey: ed25519.getPublicKey(seed) }
}

/** The bytes signed: SIGN_CONTEXT, then the record's dag-cbor without `sig`. */
function signedBytes (record: SnapshotRecord): Uint8Array {
  const { sig: _sig, ...unsigned } = record
  const body = dagCbor.encode(unsigned)
  const context = new TextEncoder().encode(SIGN_CONTEXT)
  const out = new Uint8Array(context.byteLength + body.byteLength)
  out.set(context); out.set(body, context.byteLength)
  return out
}

/** The record with its signature. */
export function signRecord (record: SnapshotRecord, key: SigningKey): SnapshotRecord {
  return { ...record, sig: ed25519.sign(signedBytes(record), key.seed) }
}

/** Whether the record carries a valid signature by `publicKey` (the user's). */
export function verifyRecord (record: SnapshotRecord, publicKey: Uint8Array): boolean {
  if (record.sig === undefined || record.sig.byteLength !== RECORD_SIGNATURE_BYTES) return false
  try { return ed25519.verify(record.sig, signedBytes(record), publicKey) } catch { return false }
}
