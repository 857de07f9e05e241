import { readFile } from 'node:fs/promises'
import { USER_KEY_BYTES } from './constants.js'
import { generateUserKey } from './crypto.js'
import { InvalidPersonalFormatError } from './errors.js'
import { writeFileAtomic } from '@cachecloud/core'

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
    if (provisioned !== undefined && !Buffer.from(existing).equals(provisioned)) throw new InvalidPersonalFormatError(`user key ${path} differs from the provisioned key`)
    return existing
  }
  const key = provisioned ?? generateUserKey()
  await writeFileAtomic(path, key, { mode: 0o600 })
  return key
}
