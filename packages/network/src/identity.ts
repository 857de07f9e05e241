import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '@cachecloud/core'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { InvalidPeerKeyFileError } from './errors.js'

/**
 * The node's libp2p identity (ed25519, protobuf-encoded), created on first use
 * and kept so the peer id survives restarts. Written atomically, mode 0600.
 */
export async function loadOrCreatePeerKey (path: string): Promise<PrivateKey> {
  let bytes: Buffer | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new InvalidPeerKeyFileError(`cannot read peer key ${path}: ${(err as Error).message}`, { cause: err })
    }
  }
  if (bytes !== undefined) {
    try {
      return privateKeyFromProtobuf(bytes)
    } catch (err) {
      throw new InvalidPeerKeyFileError(`peer key ${path} is corrupt; move it away to create a new identity`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  await writeFileAtomic(path, privateKeyToProtobuf(key), { mode: 0o600 })
  return key
}
