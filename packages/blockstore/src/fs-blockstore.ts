import fs from 'node:fs'
import fsp from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { bytesMatchCid, cidOf, type AbortOptions } from '@cachecloud/core'
import type { CID } from 'multiformats/cid'
import { Commits } from './commits.js'
import { BLOCKSTORE_VERSION_TEXT, DEFAULT_SYNC_CONCURRENCY, MAX_BLOCK_BYTES } from './constants.js'
import {
  BlockCorruptError, BlockNotFoundError, BlockstoreClosedError, BlockstoreFormatError, BlockTooLargeError, UnsupportedCidError
} from './errors.js'
import { fsyncPath, isNotFound, mapDiskFull, readSmallFile, writeFileDurably, writeNewFile } from './fs-util.js'
import { cidOfKey, isSupportedCid, keyOf, Layout, SHARD_NAMES } from './layout.js'
import { recover, type RecoveryResult } from './recover.js'
import type { Blockstore, BlockstoreInit, BlockstoreStats, GcResult } from './index.js'

/** Stats of a shard's files in flight at once. */
const STAT_BATCH = 32

class FsBlockstore implements Blockstore {
  private readonly layout: Layout
  private readonly commits: Commits
  private started = false
  /** Puts in progress by key: a concurrent put of the same block waits and reports "not new". */
  private readonly writing = new Map<string, Promise<boolean>>()
  private tmpSeq = 0
  /** What the last start() found and repaired; for tests and logs. */
  lastRecovery: RecoveryResult = { checked: 0, removed: 0 }

  constructor (init: BlockstoreInit) {
    this.layout = new Layout(init.path)
    this.commits = new Commits(this.layout, init.syncConcurrency ?? DEFAULT_SYNC_CONCURRENCY)
  }

  async start (): Promise<void> {
    if (this.started) return
    await this.openLayout()
    this.lastRecovery = await recover(this.layout, this.commits)
    this.started = true
  }

  async stop (): Promise<void> {
    if (!this.started) return
    await this.sync()
    this.started = false
  }

  async has (cid: CID, options?: AbortOptions): Promise<boolean> {
    this.assertOpen(options)
    if (!isSupportedCid(cid)) return false
    return fs.existsSync(this.layout.blockPath(keyOf(cid)))
  }

  async get (cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    this.assertOpen(options)
    if (!isSupportedCid(cid)) throw new BlockNotFoundError(`block ${cid.toString()} not found (unsupported CID)`)
    const path = this.layout.blockPath(keyOf(cid))
    let read: { bytes: Uint8Array | undefined, ino: number }
    try {
      read = await readSmallFile(path, MAX_BLOCK_BYTES)
    } catch (err) {
      if (isNotFound(err)) throw new BlockNotFoundError(`block ${cid.toString()} not found`)
      throw err
    }
    options?.signal?.throwIfAborted()
    const { bytes, ino } = read
    if (bytes !== undefined && bytesMatchCid(cid, bytes)) return bytes
    await this.removeIfSame(path, ino)
    throw new BlockCorruptError(`block ${cid.toString()} was corrupt on disk and has been removed`)
  }

  async put (cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<boolean> {
    this.assertOpen(options)
    if (!isSupportedCid(cid)) throw new UnsupportedCidError(`cannot store ${cid.toString()}: only CIDv1 with sha2-256`)
    assertSize(bytes)
    if (!bytesMatchCid(cid, bytes)) throw new BlockCorruptError(`bytes do not hash to ${cid.toString()}`)
    return await this.store(keyOf(cid), bytes)
  }

  async putBytes (bytes: Uint8Array, options?: AbortOptions): Promise<{ cid: CID, written: boolean }> {
    this.assertOpen(options)
    assertSize(bytes)
    const cid = cidOf(bytes)
    return { cid, written: await this.store(keyOf(cid), bytes) }
  }

  async delete (cid: CID): Promise<void> {
    this.assertOpen()
    if (!isSupportedCid(cid)) return
    await this.removeFile(this.layout.blockPath(keyOf(cid)))
  }

  async sync (): Promise<void> {
    this.assertOpen()
    await this.commits.sync()
  }

  async * cids (options?: AbortOptions): AsyncGenerator<CID> {
    this.assertOpen(options)
    for (const shard of SHARD_NAMES) {
      let dir: fs.Dir
      try {
        dir = await fsp.opendir(this.layout.shardDir(shard))
      } catch (err) {
        if (isNotFound(err)) continue
        throw err
      }
      for await (const entry of dir) {
        options?.signal?.throwIfAborted()
        const cid = entry.isFile() ? cidOfKey(entry.name, shard) : undefined
        if (cid !== undefined) yield cid
      }
    }
  }

  async stats (options?: AbortOptions): Promise<BlockstoreStats> {
    const stats = { blocks: 0, bytes: 0 }
    let batch: CID[] = []
    const flush = async (): Promise<void> => {
      const sizes = await Promise.all(batch.map(async cid => await this.sizeOf(cid)))
      for (const size of sizes) {
        if (size === undefined) continue
        stats.blocks++
        stats.bytes += size
      }
      batch = []
    }
    for await (const cid of this.cids(options)) {
      batch.push(cid)
      if (batch.length >= STAT_BATCH) await flush()
    }
    await flush()
    return stats
  }

  async gc (isLive: (cid: CID) => boolean, options?: AbortOptions): Promise<GcResult> {
    const result = { removed: 0, freedBytes: 0, kept: 0 }
    for await (const cid of this.cids(options)) {
      if (isLive(cid)) {
        result.kept++
        continue
      }
      const size = await this.sizeOf(cid)
      if (size === undefined) continue
      await this.delete(cid)
      result.removed++
      result.freedBytes += size
    }
    return result
  }

  /** Writes a verified block under `key` unless already held; true when newly written. */
  private async store (key: string, bytes: Uint8Array): Promise<boolean> {
    const inFlight = this.writing.get(key)
    if (inFlight !== undefined) {
      await inFlight.catch(() => {})
      return !fs.existsSync(this.layout.blockPath(key)) && await this.store(key, bytes)
    }
    const write = this.writeBlock(key, bytes)
    this.writing.set(key, write)
    try {
      return await write
    } finally {
      this.writing.delete(key)
    }
  }

  private async writeBlock (key: string, bytes: Uint8Array): Promise<boolean> {
    const path = this.layout.blockPath(key)
    if (fs.existsSync(path)) return false
    await this.commits.beginWrite()
    const tmp = join(this.layout.tmp, `${key}.${process.pid}.${this.tmpSeq++}`)
    let renamed = false
    try {
      await writeNewFile(tmp, bytes)
      renameIntoShard(tmp, path)
      renamed = true
      return true
    } catch (err) {
      try { fs.rmSync(tmp, { force: true }) } catch {}
      throw mapDiskFull(err, `writing block ${key} (${bytes.byteLength} bytes) to ${this.layout.root}`)
    } finally {
      this.commits.endWrite(renamed ? path : undefined)
    }
  }

  private async sizeOf (cid: CID): Promise<number | undefined> {
    try {
      return (await fsp.stat(this.layout.blockPath(keyOf(cid)))).size
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
  }

  private async removeFile (path: string): Promise<void> {
    await fsp.rm(path, { force: true })
    this.commits.removed(path)
  }

  /** Removes a corrupt block file unless a concurrent put has replaced it since it was read. */
  private async removeIfSame (path: string, ino: number): Promise<void> {
    const now = await fsp.stat(path).catch(() => undefined)
    if (now?.ino === ino) await this.removeFile(path)
  }

  /** Checks the format version file (creating a new store if absent) and creates directories. */
  private async openLayout (): Promise<void> {
    const { layout } = this
    await fsp.mkdir(layout.root, { recursive: true })
    let version: string | undefined
    try {
      version = await fsp.readFile(layout.version, 'utf8')
    } catch (err) {
      if (!isNotFound(err)) throw err
    }
    if (version === undefined) {
      if (fs.existsSync(layout.blocks)) {
        throw new BlockstoreFormatError(`${layout.root} has a ${layout.blocks} directory but no VERSION file: not a CacheCloud block store`)
      }
      // The version file goes first, so a half-initialized store is still recognized.
      await writeFileDurably(layout.version, layout.root, BLOCKSTORE_VERSION_TEXT)
    } else if (version !== BLOCKSTORE_VERSION_TEXT) {
      throw new BlockstoreFormatError(`${layout.root} is a block store of unknown format ${JSON.stringify(version.trim())}; this version reads ${JSON.stringify(BLOCKSTORE_VERSION_TEXT.trim())}`)
    }
    await fsp.mkdir(layout.tmp, { recursive: true })
    await fsp.mkdir(layout.blocks, { recursive: true })
    // All shard directories up front, so the write path never needs a mkdir.
    const present = new Set(await fsp.readdir(layout.blocks))
    const missing = SHARD_NAMES.filter(shard => !present.has(shard))
    for (const shard of missing) await fsp.mkdir(layout.shardDir(shard), { recursive: true })
    if (missing.length > 0) {
      await fsyncPath(layout.blocks)
      await fsyncPath(layout.root)
    }
  }

  private assertOpen (options?: AbortOptions): void {
    if (!this.started) throw new BlockstoreClosedError('block store is not started')
    options?.signal?.throwIfAborted()
  }
}

function assertSize (bytes: Uint8Array): void {
  if (bytes.byteLength > MAX_BLOCK_BYTES) {
    throw new BlockTooLargeError(`block of ${bytes.byteLength} bytes exceeds the limit of ${MAX_BLOCK_BYTES}`)
  }
}

/** Renames a temp file into its shard (a cheap metadata call, so synchronous), recreating a removed shard directory. */
function renameIntoShard (tmp: string, path: string): void {
  try {
    fs.renameSync(tmp, path)
  } catch (err) {
    if (!isNotFound(err) || !fs.existsSync(tmp)) throw err
    fs.mkdirSync(dirname(path), { recursive: true })
    fs.renameSync(tmp, path)
  }
}

export function createBlockstore (init: BlockstoreInit): Blockstore {
  return new FsBlockstore(init)
}
