import { readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { deriveUserKeyFromPrivate, formatX25519Key, generateUserKey, generateX25519KeyPair, InvalidPersonalFormatError, parseX25519Key, STATE_FILES, USER_KEY_BYTES, UserKeyMismatchError } from '@cachecloud/personal-format'
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
      throw new UserKeyMismatchError(`user key ${path} differs from the one derived from the user's key pair (or the provisioned one): this folder was versioned with another key; to keep its history, stop the daemon and run \`cachepoint personal adopt-key --user USER\` (docs/formats/personal.md#adopting-a-key-pair)`)
    }
    return existing
  }
  const key = provisioned ?? generateUserKey()
  await writeFileAtomic(path, key, { mode: 0o600 })
  return key
}

/** Keys this folder was versioned with before the current one (oldest first): its older snapshots are sealed with them. */
export async function readPreviousKeys (stateDir: string): Promise<Uint8Array[]> {
  let bytes: Uint8Array
  try { bytes = new Uint8Array(await readFile(join(stateDir, STATE_FILES.previousKeys))) } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw err
  }
  if (bytes.byteLength % USER_KEY_BYTES !== 0) throw new InvalidPersonalFormatError(`${join(stateDir, STATE_FILES.previousKeys)}: not a list of ${USER_KEY_BYTES}-byte keys`)
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength; at += USER_KEY_BYTES) out.push(bytes.slice(at, at + USER_KEY_BYTES))
  return out
}

/**
 * Makes `key` (derived from the user's key pair) the folder's user key and keeps the one it had in
 * `user.key.previous`, so that the snapshots taken so far stay restorable here and the next snapshot
 * continues the same history (its parent is the last one). The scan cache goes (its chunks are sealed with
 * the old key): the next scan reads every file once. Run with the folder's sync stopped. Returns false when
 * the folder already had that key (nothing to do).
 */
export async function adoptUserKey (stateDir: string, key: Uint8Array): Promise<boolean> {
  if (key.byteLength !== USER_KEY_BYTES) throw new InvalidPersonalFormatError(`a user key is ${USER_KEY_BYTES} bytes, got ${key.byteLength}`)
  const path = join(stateDir, STATE_FILES.userKey)
  let existing: Uint8Array | undefined
  try { existing = new Uint8Array(await readFile(path)) } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  if (existing !== undefined && Buffer.from(existing).equals(key)) return false
  if (existing !== undefined) {
    if (existing.byteLength !== USER_KEY_BYTES) throw new InvalidPersonalFormatError(`user key ${path} is not ${USER_KEY_BYTES} bytes`)
    const previous = await readPreviousKeys(stateDir)
    if (!previous.some(k => Buffer.from(k).equals(existing))) previous.push(existing)
    await writeFileAtomic(join(stateDir, STATE_FILES.previousKeys), Buffer.concat(previous), { mode: 0o600 })
  }
  await rm(join(stateDir, STATE_FILES.scanCache), { force: true })
  await writeFileAtomic(path, key, { mode: 0o600 })
  return true
}

/** adoptUserKey with the key derived from the user's key-pair file (what `cachepoint personal adopt-key` runs). */
export async function adoptUserKeyPair (stateDir: string, keyFile: string, user: string): Promise<boolean> {
  return await adoptUserKey(stateDir, deriveUserKeyFromPrivate(await readUserKeyFile(keyFile), user))
}
