import { chmod, stat } from 'node:fs/promises'
import { ConfigError } from './errors.js'

/**
 * Makes a data directory private to its owner (0700): it holds the peer and publisher keys
 * and the control token. A directory others may write to (such as /tmp) is refused rather
 * than changed. Returns the mode it had if it had to be tightened.
 */
export async function makePrivateDir (dir: string): Promise<number | undefined> {
  const mode = (await stat(dir)).mode & 0o7777
  if ((mode & 0o1000) !== 0 || (mode & 0o002) !== 0) {
    throw new ConfigError(`data directory ${dir} is shared (mode ${mode.toString(8)}): give the CachePoint a directory of its own`)
  }
  if ((mode & 0o077) === 0) return undefined
  await chmod(dir, mode & 0o700 | 0o700)
  return mode
}
