import { readFile } from 'node:fs/promises'
import { formatX25519Key, generateX25519KeyPair, parseX25519Key, x25519PublicKey } from '@cachecloud/personal-format'
import { writeFileAtomic } from './fs.js'

/**
 * The organization's discovery key file: JSON `{ "privateKey": "x25519:...", "publicKey": "x25519:..." }`,
 * mode 0600, kept off the store's data directory (with the discovery officer or in a secrets store).
 */
export async function writeDiscoveryKey (path: string): Promise<string> {
  const pair = generateX25519KeyPair()
  const publicKey = formatX25519Key(pair.publicKey)
  await writeFileAtomic(path, JSON.stringify({ privateKey: formatX25519Key(pair.privateKey), publicKey }, null, 2) + '\n')
  return publicKey
}

export async function readDiscoveryKey (path: string): Promise<Uint8Array> {
  const { privateKey } = JSON.parse(await readFile(path, 'utf8')) as { privateKey: string }
  return parseX25519Key(privateKey)
}

export function publicKeyOf (privateKey: Uint8Array): string {
  return formatX25519Key(x25519PublicKey(privateKey))
}
