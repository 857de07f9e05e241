import { randomBytes } from 'node:crypto'
import { link, mkdir, open, readdir, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { BlockCorruptError, BlockNotFoundError, BlockTooLargeError, type Blockstore } from '@cachecloud/blockstore'
import { bytesMatchCid, fsyncDir, type CID } from '@cachecloud/core'
import type { BlockBackend } from './backend.js'
import { BackendViews } from './backend-blockstore.js'
import { checkKey, checkPut, cidOfName } from './backend-checks.js'
import { assertValidUser } from './enrollment.js'
import { MAX_BACKEND_BLOCK_BYTES, SHARED_FS_FILES, SHARED_FS_VERSION } from './constants.js'
import { BackendConfigError } from './errors.js'

/** Temporaries older than this were left by a writer that died before its commit point. */
const STALE_TMP_MS = 60 * 60_000

const isCode = (err: unknown, code: string): boolean => (err as NodeJS.ErrnoException).code === code

/**
 * One file per block on a shared filesystem (a NAS mount), safe with several
 * store processes on several hosts at once, with nothing but link(2) for
 * atomicity (no flock, which NFS does not reliably honour): a block is written
 * whole to a temporary, fsynced at the commit point, then hard-linked to its
 * content-addressed name. link fails if the name exists, so a name never
 * points to a torn file and two writers of one block agree without a lock.
 * Layout: docs/formats/dcstore.md#shared-filesystem-backend.
 */
export class SharedFsBackend implements BlockBackend {
  readonly kind = 'shared-fs'
  readonly multiWriter = true
  readonly worm = false
  /** Blocks put since the user's last sync, by this process: CID -> temporary. */
  private readonly pending = new Map<string, Map<string, { cid: CID, tmp: string }>>()
  private readonly views = new BackendViews(this)

  constructor (private readonly root: string) {}

  private objectPath (user: string, cid: CID): { dir: string, file: string } {
    const name = cid.toString()
    const dir = join(this.root, SHARED_FS_FILES.blocks, user, SHARED_FS_FILES.objects, name.slice(-2))
    return { dir, file: join(dir, name) }
  }

  async start (): Promise<void> {
    await mkdir(join(this.root, SHARED_FS_FILES.tmp), { recursive: true })
    const versionPath = join(this.root, SHARED_FS_FILES.version)
    // created exclusively: two processes starting on a new root agree on one
    await writeFile(versionPath, SHARED_FS_VERSION, { flag: 'wx', mode: 0o600 }).catch((err: unknown) => { if (!isCode(err, 'EEXIST')) throw err })
    const version = await readFile(versionPath, 'utf8')
    if (version !== SHARED_FS_VERSION) throw new BackendConfigError(`${this.root} is not a shared-filesystem block backend of this format (${SHARED_FS_FILES.version} is ${JSON.stringify(version.slice(0, 60))})`)
    await this.removeStaleTemporaries()
  }

  async stop (): Promise<void> {
    for (const user of [...this.pending.keys()]) await this.sync(user)
  }

  private async removeStaleTemporaries (): Promise<void> {
    const dir = join(this.root, SHARED_FS_FILES.tmp)
    const now = Date.now()
    for (const name of await readdir(dir)) {
      const st = await stat(join(dir, name)).catch(() => undefined)
      if (st !== undefined && now - st.mtimeMs > STALE_TMP_MS) await rm(join(dir, name), { force: true })
    }
  }

  async blockstore (user: string): Promise<Blockstore> {
    assertValidUser(user)
    return this.views.of(user)
  }

  async put (user: string, cid: CID, bytes: Uint8Array): Promise<boolean> {
    checkPut(user, cid, bytes)
    if (await this.has(user, cid)) return false
    const tmp = join(this.root, SHARED_FS_FILES.tmp, `${cid.toString()}.${hostname()}.${process.pid}.${randomBytes(6).toString('hex')}`)
    await writeFile(tmp, bytes, { flag: 'wx', mode: 0o600 })
    let pending = this.pending.get(user)
    if (pending === undefined) { pending = new Map(); this.pending.set(user, pending) }
    pending.set(cid.toString(), { cid, tmp })
    return true
  }

  async sync (user: string): Promise<void> {
    const pending = this.pending.get(user)
    if (pending === undefined || pending.size === 0) return
    const dirs = new Set<string>()
    for (const [key, { cid, tmp }] of pending) {
      const handle = await open(tmp, 'r')
      try { await handle.datasync() } finally { await handle.close() }
      const { dir, file } = this.objectPath(user, cid)
      await mkdir(dir, { recursive: true })
      // EEXIST: another writer (or an earlier run) stored the same bytes first
      await link(tmp, file).catch((err: unknown) => { if (!isCode(err, 'EEXIST')) throw err })
      await unlink(tmp).catch(() => {})
      dirs.add(dir)
      pending.delete(key)
    }
    for (const dir of dirs) await fsyncDir(dir)
  }

  async get (user: string, cid: CID): Promise<Uint8Array> {
    checkKey(user, cid)
    const tmp = this.pending.get(user)?.get(cid.toString())?.tmp
    const { file } = this.objectPath(user, cid)
    const path = tmp ?? file
    let handle
    try { handle = await open(path, 'r') } catch (err) {
      if (isCode(err, 'ENOENT')) throw new BlockNotFoundError(`block ${cid.toString()} is not in the store of ${user}`)
      throw err
    }
    let bytes: Buffer
    try {
      const { size } = await handle.stat()
      // bounded before it is read: a file past any block's size is not one
      if (size > MAX_BACKEND_BLOCK_BYTES) throw new BlockTooLargeError(`stored block ${cid.toString()} is ${size} bytes, more than the limit of ${MAX_BACKEND_BLOCK_BYTES}`)
      bytes = await handle.readFile()
    } finally { await handle.close() }
    if (!bytesMatchCid(cid, bytes)) {
      // a rotten copy is dropped (a later put stores it again), never served
      if (tmp === undefined) await unlink(file).catch(() => {})
      throw new BlockCorruptError(`stored block ${cid.toString()} of ${user} does not hash to its CID (dropped)`)
    }
    return bytes
  }

  async has (user: string, cid: CID): Promise<boolean> {
    checkKey(user, cid)
    if (this.pending.get(user)?.has(cid.toString()) === true) return true
    return await stat(this.objectPath(user, cid).file).then(() => true, (err: unknown) => { if (isCode(err, 'ENOENT')) return false; throw err })
  }

  async size (user: string, cid: CID): Promise<number | undefined> {
    checkKey(user, cid)
    const tmp = this.pending.get(user)?.get(cid.toString())?.tmp
    return await stat(tmp ?? this.objectPath(user, cid).file).then(s => s.size, (err: unknown) => { if (isCode(err, 'ENOENT')) return undefined; throw err })
  }

  async * cids (user: string): AsyncIterable<CID> {
    assertValidUser(user)
    const objects = join(this.root, SHARED_FS_FILES.blocks, user, SHARED_FS_FILES.objects)
    const fans = await readdir(objects).catch((err: unknown) => { if (isCode(err, 'ENOENT')) return []; throw err })
    for (const fan of fans.sort()) {
      const names = await readdir(join(objects, fan)).catch((err: unknown) => { if (isCode(err, 'ENOENT') || isCode(err, 'ENOTDIR')) return []; throw err })
      for (const name of names.sort()) {
        const cid = cidOfName(name)
        if (cid !== undefined && name.endsWith(fan)) yield cid
      }
    }
  }

  async delete (user: string, cid: CID): Promise<void> {
    checkKey(user, cid)
    const tmp = this.pending.get(user)?.get(cid.toString())?.tmp
    if (tmp !== undefined) { this.pending.get(user)!.delete(cid.toString()); await rm(tmp, { force: true }) }
    const { dir, file } = this.objectPath(user, cid)
    try { await unlink(file) } catch (err) { if (isCode(err, 'ENOENT')) return; throw err }
    await fsyncDir(dir)
  }
}
