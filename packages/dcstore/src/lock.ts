import { open, readFile, rm } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { processAlive } from '@cachecloud/core'
import { LockTimeoutError } from './errors.js'

/** How long a writer waits for another process's lock, and how often it looks. */
const LOCK_WAIT_MS = 10_000
const LOCK_POLL_MS = 5

/**
 * Runs `fn` holding an exclusive lock file (created with O_EXCL, holding the
 * pid). Several processes write the store's audit log (the server, discovery
 * commands): each takes the lock around read-head, append, write-head. A
 * lock whose process is gone (killed while holding it) is removed.
 */
export async function withLockFile<T> (path: string, fn: () => Promise<T>, waitMs = LOCK_WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs
  for (;;) {
    try {
      const handle = await open(path, 'wx', 0o600)
      try { await handle.writeFile(String(process.pid)) } finally { await handle.close() }
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    const holder = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
    // a lock with no pid yet is being written: wait; a dead holder's lock is stale
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== process.pid && !processAlive(holder)) { await rm(path, { force: true }); continue }
    if (Date.now() > deadline) throw new LockTimeoutError(`${path} is held by process ${Number.isNaN(holder) ? '?' : holder} for more than ${waitMs / 1000} s`)
    await sleep(LOCK_POLL_MS)
  }
  try { return await fn() } finally { await rm(path, { force: true }) }
}
