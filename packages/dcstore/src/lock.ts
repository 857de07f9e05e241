import { randomBytes } from 'node:crypto'
import { link, lstat, mkdir, readdir, readFile, rename, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hostname } from 'node:os'
import { setTimeout as sleep } from 'node:timers/promises'
import { processAlive } from '@cachecloud/core'
import { FOREIGN_LOCK_STALE_MS } from './constants.js'
import { LockTimeoutError, StoreInUseError } from './errors.js'

/** How long a writer waits for another process's lock, and how often it looks. */
const LOCK_WAIT_MS = 10_000
const LOCK_POLL_MS = 5

/** A held lock file; `release` removes it. */
export interface HeldLock { path: string, release: () => Promise<void> }

/**
 * A lock file's text: `PID HOST\n` (`PID\n`, from before several hosts shared
 * a store, is this host's). A pid says nothing about a process on another
 * host (a NAS shared by several store machines): there the holder refreshes
 * the file's mtime, and a lock not refreshed for FOREIGN_LOCK_STALE_MS is stale.
 */
interface Holder { pid: number | undefined, host: string, ino: number, mtimeMs: number }

const THIS_HOST = hostname()
const lockText = (): string => `${process.pid} ${THIS_HOST}\n`

const parseHolder = (text: string): { pid: number | undefined, host: string } => {
  const m = /^(\d+)(?: ([^\s]{1,255}))?\n?$/.exec(text)
  const pid = m === null ? undefined : Number.parseInt(m[1], 10)
  return { pid: pid !== undefined && pid > 0 ? pid : undefined, host: m?.[2] ?? THIS_HOST }
}

/** Whether a lock file's holder is gone: no pid in it (never true of a live holder's file), a pid of this host no longer running, or another host's lock left unrefreshed. */
const isStale = (h: { pid: number | undefined, host: string, mtimeMs: number }): boolean => {
  if (h.pid === undefined) return true
  if (h.host !== THIS_HOST) return Date.now() - h.mtimeMs > FOREIGN_LOCK_STALE_MS
  return h.pid !== process.pid && !processAlive(h.pid)
}

/** Who holds a lock file (undefined: nobody, it was released meanwhile). */
async function holderOf (path: string): Promise<Holder | undefined> {
  const st = await lstat(path).catch(() => undefined)
  if (st === undefined) return undefined
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined; throw err }
  return { ...parseHolder(text), ino: st.ino, mtimeMs: st.mtimeMs }
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
  if (moved.ino !== ino || !isStale({ ...parseHolder(await readFile(grave, 'utf8')), mtimeMs: moved.mtimeMs })) await link(grave, path).catch(() => {})
  await rm(grave, { force: true })
}

/** A lock taken: its mtime refreshed while held (other hosts judge it by that), removed on release. */
function held (path: string): HeldLock {
  const timer = setInterval(() => { const now = new Date(); utimes(path, now, now).catch(() => {}) }, FOREIGN_LOCK_STALE_MS / 3)
  timer.unref()
  return { path, release: async () => { clearInterval(timer); await rm(path, { force: true }) } }
}

const byWhom = (got: { heldBy: number, host: string }): string => got.host === THIS_HOST ? `process ${got.heldBy}` : `process ${got.heldBy} on host ${got.host}`

/**
 * Tries once to take an exclusive lock file. It is created whole (the pid
 * written to a temporary, then hard-linked into place, which fails if the
 * lock exists), so a lock file is never seen without its pid: one that is
 * empty or garbled was left by a crash, like one whose process is gone, and
 * is taken over. Returns the holder's pid when another live process holds it.
 */
export async function tryLockFile (path: string): Promise<HeldLock | { heldBy: number, host: string }> {
  const tmp = `${path}.${process.pid}-${randomBytes(4).toString('hex')}`
  await writeFile(tmp, lockText(), { mode: 0o600 })
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await link(tmp, path)
        return held(path)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      const holder = await holderOf(path)
      if (holder === undefined) continue // released just now
      if (!isStale(holder)) return { heldBy: holder.pid!, host: holder.host }
      await removeStale(path, holder.ino)
    }
    const holder = await holderOf(path)
    return { heldBy: holder?.pid ?? 0, host: holder?.host ?? THIS_HOST }
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
    if (Date.now() > deadline) throw new LockTimeoutError(`${path} is held by ${byWhom(got)} for more than ${waitMs / 1000} s`)
    await sleep(LOCK_POLL_MS)
  }
}

/**
 * The store's data-directory lock: held by the one process that opens the
 * users' block stores (`serve`, `retention --apply`, an export). Opening a
 * block store recovers it, cutting what another process has not yet made
 * durable, so a second opener would destroy a snapshot still arriving.
 */
export async function lockStore (path: string, dataDir: string, hint = 'stop it first'): Promise<HeldLock> {
  const got = await tryLockFile(path)
  if ('release' in got) return got
  throw new StoreInUseError(`store ${dataDir} is in use by ${byWhom(got)} (dcstore serve?): ${hint}`)
}

/** The live holder of a lock file, or undefined (none, or a stale one). */
export async function liveHolderOf (path: string): Promise<{ pid: number, host: string } | undefined> {
  const h = await holderOf(path)
  return h === undefined || isStale(h) ? undefined : { pid: h.pid!, host: h.host }
}

/**
 * A serving process of a store whose blocks several processes write (a
 * shared filesystem, S3) holds one lock file of its own in `dir`
 * (`<host>-<pid>.lock`), so that what must not run beside any of them
 * (retention --apply) sees them all. Refused while `exclusivePath` (the
 * data-directory lock) is held: the marker is made first and the lock looked
 * at after, as `assertNotServed` does the other way round, so of two racing
 * processes at least one sees the other.
 */
export async function lockServing (dir: string, exclusivePath: string, dataDir: string): Promise<HeldLock> {
  await mkdir(dir, { recursive: true })
  const got = await tryLockFile(join(dir, `${THIS_HOST}-${process.pid}.lock`))
  if (!('release' in got)) throw new StoreInUseError(`store ${dataDir}: another process took this process's serving marker`)
  const holder = await liveHolderOf(exclusivePath)
  if (holder !== undefined) { await got.release(); throw new StoreInUseError(`store ${dataDir} is in use by ${byWhom({ heldBy: holder.pid, host: holder.host })} (retention --apply?): wait for it to finish`) }
  return got
}

/** StoreInUseError when any process serves the store (a live marker in `dir`); stale markers are removed. */
export async function assertNotServed (dir: string, dataDir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!name.endsWith('.lock')) continue
    const holder = await liveHolderOf(join(dir, name))
    if (holder?.pid === process.pid && holder.host === THIS_HOST) continue // this process's own serving (as the data-directory lock it holds)
    if (holder !== undefined) throw new StoreInUseError(`store ${dataDir} is in use by ${byWhom({ heldBy: holder.pid, host: holder.host })} (dcstore serve): stop every serving process first`)
    await rm(join(dir, name), { force: true })
  }
}
