import { chmod, readdir, stat } from 'node:fs/promises'
import { PEER_KEY_FILE } from './constants.js'
import { ConfigError } from './errors.js'

/**
 * Makes a data directory private to its owner (0700): it holds the peer and publisher keys
 * and the control token. A directory others may write to (sticky or world-writable) is taken
 * over only if it is empty (a fresh mount point, say) or already a CachePoint's (it holds the
 * peer key); one such as /tmp, full of others' files, is refused rather than changed.
 * Returns the mode it had if it had to be tightened.
 */
export async function makePrivateDir (dir: string): Promise<number | undefined> {
  const mode = (await stat(dir)).mode & 0o7777
  if ((mode & 0o1000) !== 0 || (mode & 0o002) !== 0) {
    const entries = (await readdir(dir)).filter(name => name !== 'lost+found')
    if (entries.length > 0 && !entries.includes(PEER_KEY_FILE)) {
      throw new ConfigError(`data directory ${dir} is shared (mode ${mode.toString(8)}) and holds other files: give the CachePoint a directory of its own`)
    }
  }
  if ((mode & 0o7077) === 0) return undefined
  await chmod(dir, 0o700)
  return mode
}
