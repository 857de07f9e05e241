import { randomBytes } from 'node:crypto'
import { link, lstat, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { processAlive } from '@cachecloud/core'
import { LockTimeoutError, StoreInUseError } from './errors.js'

/** How long a writer waits for another process's lock, and how often it looks. */
const LOCK_WAIT_MS = 10_000
const LOCK_POLL_MS = 5

/** A held lock file; `release` removes it. */
export interface HeldLock { path: string, release: () => Promise<void> }

const parsePid = (text: string): number | undefined => {
  const pid = /^\d+\n?$/.test(text) ? Number.parseInt(text, 10) : undefined
  return pid !== undefined && pid > 0 ? pid : undefined
}

/** Whether a lock file's holder is gone: no pid in it (never true of a live holder's file), or a pid no longer running. */
const isStale = (pid: number | undefined): boolean => pid === undefined || (pid !== process.pid && !processAlive(pid))

/** Who holds a lock file (undefined: nobody, it was released meanwhile): its inode and pid, undefined when empty or garbled. */
async function holderOf (path: string): Promise<{ pid: number | undefined, ino: number } | undefined> {
  const st = await lstat(path).catch(() => undefined)
  if (st === undefined) return undefined
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; throw err }
  return { pid: parsePid(text), ino: st.ino }
}

/**
 * Removes a stale lock file, and only that one: it is renamed aside, and if
 * what was moved is not it (another inode, or a live holder's pid: another
 * process took the lock over meanwhile) it is linked back.
 */
async function removeStale (path: string, ino: number): Promise<void> {
  const grave = `${path}.stale-${process.pid}-${randomBytes(4).toString('hex')}`
  try { await rename(path, grave) } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; throw err }
  const moved = await lstat(grave)
  if (moved.ino !== ino || !isStale(parsePid(await readFile(grave, 'utf8')))) await link(grave, path).catch(() => {})
  await rm(grave, { force: true })
}

/**
 * Tries once to take an exclusive lock file. It is created whole (the pid
 * written to a temporary, then hard-linked into place, which fails if the
 * lock exists), so a lock file is never seen without its pid: one that is
 * empty or garbled was left by a crash, like one whose process is gone, and
 * is taken over. Returns the holder's pid when another live process holds it.
 */
export async function tryLockFile (path: string): Promise<HeldLock | { heldBy: number }> {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`
  await writeFile(tmp, `${process.pid}\n`, { mode: 0o600 })
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path)
        return { path, release: async () => { await rm(path, { force: true }) } }
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = await holderOf(path)
      if (holder === undefined) continue // released just now
      if (!isStale(holder.pid)) return { heldBy: holder.pid! }
      await removeStale(path, holder.ino)
    }
    const holder = await holderOf(path)
    return { heldBy: holder?.pid ?? 0 }
  } finally {
    await rm(tmp, { force: true })
  }
}

/**
 * Runs `fn` holding an exclusive lock file, waiting up to `waitMs` for
 * another process. Several processes write the store's audit log (the server,
 * discovery commands): each takes the lock around read-head, append, write-head.
 */
export async function withLockFile<T> (path: string, fn: () => Promise<T>, waitMs = LOCK_WAIT_MS): Promise<T> {
  const deadline = Date.now() + waitMs
  for (;;) {
    const got = await tryLockFile(path)
    if ('release' in got) {
      try { return await fn() } finally { await got.release() }
    }
    if (Date.now() > deadline) throw new LockTimeoutError(`${path} is held by process ${got.heldBy} for more than ${waitMs / 1000} s`)
    await sleep(LOCK_POLL_MS)
  }
}

/**
 * The store's data-directory lock: held by the one process that opens the
 * users' block stores (`serve`, `retention --apply`, an export). Opening a
 * block store recovers it, cutting what another process has not yet made
 * durable, so a second opener would destroy a snapshot still arriving.
 */
export async function lockStore (path: string, dataDir: string): Promise<HeldLock> {
  const got = await tryLockFile(path)
  if ('release' in got) return got
  throw new StoreInUseError(`store ${dataDir} is in use by process ${got.heldBy} (dcstore serve?): stop it first`)
}
