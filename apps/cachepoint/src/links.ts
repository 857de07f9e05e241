import { lstat, readlink } from 'node:fs/promises'
import { dirname, resolve } from 'node:path'
import { UsageError } from './errors.js'

/** Hops of symbolic links followed before giving up (the kernel's own limit is 40). */
const MAX_LINK_HOPS = 40

/**
 * The path a chain of symbolic links ends at (`export --follow-symlinks`): the target itself
 * if it is no link, and the final name even if nothing exists there yet (a dangling link is
 * written through, creating its target).
 */
export async function followLinks (path: string): Promise<string> {
  let current = path
  for (let hop = 0; hop <= MAX_LINK_HOPS; hop++) {
    const stats = await lstat(current).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined
      throw new UsageError(`cannot follow ${current}: ${err.message}`)
    })
    if (stats === undefined || !stats.isSymbolicLink()) return current
    current = resolve(dirname(current), await readlink(current))
  }
  throw new UsageError(`cannot follow ${path}: more than ${MAX_LINK_HOPS} symbolic links`)
}
