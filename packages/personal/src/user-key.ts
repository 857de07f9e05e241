import { readFile } from 'node:fs/promises'
import { USER_KEY_BYTES } from './constants.js'
import { formatX25519Key, generateUserKey, generateX25519KeyPair, parseX25519Key } from './crypto.js'
import { InvalidPersonalFormatError } from './errors.js'
import { writeFileAtomic } from '@cachecloud/core'

/** The user's X25519 private key from a key-pair file `{ "privateKey": "x25519:...", "publicKey": ... }` (as `dcstore keygen` or `writeUserKeyFile` writes). */
export async function readUserKeyFile (path: string): Promise<Uint8Array> {
  let doc: { privateKey?: unknown }
  try { doc = JSON.parse(await readFile(path, 'utf8')) as { privateKey?: unknown } } catch (err) {
    throw new InvalidPersonalFormatError(`user key file ${path}: ${(err as Error).message}`, { cause: err })
  }
  if (typeof doc.privateKey !== 'string') throw new InvalidPersonalFormatError(`user key file ${path}: no "privateKey" (x25519:...)`)
  return parseX25519Key(doc.privateKey)
}

/** Writes a new user key pair file (mode 0600); returns the public key as text. */
export async function writeUserKeyFile (path: string): Promise<string> {
  const pair = generateX25519KeyPair()
  const publicKey = formatX25519Key(pair.publicKey)
  await writeFileAtomic(path, JSON.stringify({ privateKey: formatX25519Key(pair.privateKey), publicKey }, null, 2) + '\n', { mode: 0o600 })
  return publicKey
}

/** The user key kept on the node (raw 32 bytes, mode 0600), created on first use unless one is provisioned. */
export async function loadOrCreateUserKey (path: string, provisioned?: Uint8Array): Promise<Uint8Array> {
  let existing: Uint8Array | undefined
  try {
    existing = new Uint8Array(await readFile(path))
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (existing !== undefined) {
    if (existing.byteLength !== USER_KEY_BYTES) throw new InvalidPersonalFormatError(`user key ${path} is not ${USER_KEY_BYTES} bytes`)
    if (provisioned !== undefined && !Buffer.from(existing).equals(provisioned)) {
      throw new InvalidPersonalFormatError(`user key ${path} differs from the provisioned one (or the one derived from the user's key pair): this folder was versioned with another key; move its state directory aside to start over`)
    }
    return existing
  }
  const key = provisioned ?? generateUserKey()
  await writeFileAtomic(path, key, { mode: 0o600 })
  return key
}
