import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * Size of a directory tree: apparent (sum of regular files' lengths: what is
 * stored, without directory entries, which casync's 4-hex-digit fan-out has
 * thousands of) and allocated (disk blocks of files and directories, as `du`).
 */
export interface TreeSize { apparent: number, allocated: number, files: number }

export async function du (path: string): Promise<TreeSize> {
  const size: TreeSize = { apparent: 0, allocated: 0, files: 0 }
  const walk = async (dir: string): Promise<void> => {
    size.allocated += (await lstat(dir)).blocks * 512
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name)
      if (entry.isDirectory()) await walk(path)
      else if (entry.isFile()) {
        const stat = await lstat(path)
        size.apparent += stat.size
        size.allocated += stat.blocks * 512
        size.files++
      }
    }
  }
  await walk(path)
  return size
}

/** Wall-clock milliseconds of `fn`, with its result. */
export async function timed<T> (fn: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const started = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - started }
}
