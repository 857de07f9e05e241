import { createHash } from 'node:crypto'
import { constants, type BigIntStats } from 'node:fs'
import { lstat, open, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { Blockstore } from '@cachecloud/blockstore'
import type { Chunker } from '@cachecloud/chunker'
import { parseCid, processAlive, type CID, type ProgressOptions } from '@cachecloud/core'
import { CHUNK_FORMAT, FolderUnavailableError, PAGE_THRESHOLD, sealDir, SEALED_PUT, TEMP_MARKER, type ChunkFormat, type Entry, type Presealed, type UserKeys } from '@cachecloud/personal-format'
import { createSealer, defaultSealThreads } from './seal-pool.js'
import type { EntryStat, SealedChunk } from './seal-file.js'
import { emptyScanCache, type CachedFile, type ScanCache } from './state.js'

/** Counters of one scan. */
export interface ScanStats {
  files: number
  bytes: number
  /** Files read and hashed (not found unchanged in the scan cache). */
  hashedFiles: number
  hashedBytes: number
  /** Sealed blocks and bytes newly written to the block store. */
  newBlocks: number
  newBytes: number
  /** Directories sealed (not found unchanged in the scan cache). */
  sealedDirs: number
}

export interface ScanInit extends ProgressOptions<'personal:scan'> {
  folder: string
  blockstore: Blockstore
  chunker: Chunker
  keys: UserKeys
  /** Scan cache of the previous scan (read only). */
  previous: ScanCache
  /** Files in work at once (across directories); 1: one at a time, sealed on the calling thread. */
  concurrency: number
  /** Worker threads that read small files and seal chunks; 0: the calling thread. Default defaultSealThreads(). Ignored (0) with concurrency 1. */
  sealThreads?: number
}

/** Files up to this size are read whole by the sealer; larger ones are streamed in pieces of WHOLE_FILE_BYTES. */
const SYNC_READ_BYTES = 256 * 1024
const WHOLE_FILE_BYTES = 1024 * 1024
/** Chunks of a large file go to the sealer about this many bytes at a time. */
const SEAL_BATCH_BYTES = 1024 * 1024
/** Small files of a directory go to the sealer in batches of at most this many bytes and files (fewer messages, less garbage). */
const SMALL_BATCH_BYTES = 4 * 1024 * 1024
const FILE_BATCH = 256
/** Names of a directory lstat'ed in one message. */
const STAT_BATCH = 1024

/** SHA-256 of everything a directory block encodes. */
function signature (entries: Entry[]): string {
  // one string, one update (the same digest as an update per part)
  const parts: string[] = []
  for (const e of entries) {
    parts.push(`${e.kind}\0${e.name}\0${e.mode}\0${e.mtimeMs}\0`)
    if (e.kind === 'file') parts.push(`${e.size}\0${Buffer.from(e.sha256).toString('hex')}\0${e.chunks.join(',')}\0${e.chunkFormat === CHUNK_FORMAT.flagged ? 'z2\0' : ''}`)
    else if (e.kind === 'dir') parts.push(`${e.dir.toString()}\0`)
    else parts.push(`${e.target}\0`)
  }
  return createHash('sha256').update(parts.join('')).digest('hex')
}

/** At most `limit` holders at once; the others wait in order. */
class Limiter {
  private active = 0
  private readonly waiting: Array<() => void> = []
  constructor (private readonly limit: number) {}
  async run<T> (fn: () => Promise<T>): Promise<T> {
    if (this.active >= this.limit) await new Promise<void>(resolve => { this.waiting.push(resolve) })
    else this.active++
    try { return await fn() } finally {
      const next = this.waiting.shift()
      if (next !== undefined) next()
      else this.active--
    }
  }
}

/**
 * Scans a folder into sealed chunks and directory blocks in the block store,
 * returning the root directory CID and the new scan cache. A file whose size,
 * mtime, ctime and inode match the previous scan is not read: its chunk list
 * and hash come from the cache. Up to `concurrency` files are in work at once,
 * across directories (subdirectories are scanned side by side), their reading,
 * hashing, chunking, compression and sealing on `sealThreads` worker threads;
 * entries are put together in name order, and sealing is deterministic, so the
 * tree and every CID are the same whatever the concurrency.
 */
export async function scanFolder (init: ScanInit): Promise<{ root: CID, cache: ScanCache, stats: ScanStats }> {
  const stats: ScanStats = { files: 0, bytes: 0, hashedFiles: 0, hashedBytes: 0, newBlocks: 0, newBytes: 0, sealedDirs: 0 }
  const cache: ScanCache = emptyScanCache()
  const concurrency = Math.max(1, init.concurrency)
  const fileWork = new Limiter(concurrency)
  const dirWork = new Limiter(concurrency)
  const sealer = createSealer(init.keys, init.chunker, concurrency === 1 ? 0 : init.sealThreads ?? defaultSealThreads())

  /** File entries sealed on the sealing threads (the same bytes sealDir would make). */
  const presealed = new Map<Entry, Presealed>()

  const putSealed = async ({ bytes, sha256, crc32 }: SealedChunk): Promise<CID> => {
    const { cid, written } = await init.blockstore.putBytes(bytes, { ...SEALED_PUT, computed: { sha256, crc32 } })
    if (written) { stats.newBlocks++; stats.newBytes += bytes.byteLength }
    return cid
  }

  const cached = (rel: string, st: EntryStat): CachedFile | undefined => {
    const old = init.previous.files.get(rel)
    if (old === undefined) return undefined
    const same = old.size === st.size && old.mtimeNs === st.mtimeNs && old.ctimeNs === st.ctimeNs && old.ino === st.ino
    if (!same) return undefined
    return old
  }

  const fileEntry = (name: string, st: EntryStat, sha256: Uint8Array, chunks: CID[], size: number, chunkFormat: ChunkFormat): Entry =>
    ({ kind: 'file', name, mode: Number(st.mode & 0o7777n), mtimeMs: Number(st.mtimeNs / 1_000_000n), size, sha256, chunks, ...(chunkFormat === CHUNK_FORMAT.plain ? {} : { chunkFormat }) })

  const finish = (rel: string, name: string, st: EntryStat, sha256: Uint8Array, chunks: CID[], size: number, stable: boolean): Entry => {
    stats.hashedFiles++; stats.hashedBytes += size
    // changed while read: keep what was read, but do not cache it so the next scan reads it again
    if (BigInt(size) === st.size && stable) {
      cache.files.set(rel, { size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino, sha256, chunks, z: CHUNK_FORMAT.flagged })
    }
    return fileEntry(name, st, sha256, chunks, size, CHUNK_FORMAT.flagged)
  }

  interface ToRead { i: number, abs: string, rel: string, name: string, st: EntryStat }

  /** Small changed files, read whole and sealed by the sealer in one message (synchronous reads: microseconds from the page cache). */
  const readSmall = async (files: ToRead[], items: Array<Entry | undefined>, paged: boolean): Promise<void> => {
    const r = await sealer.run({
      t: 'files',
      paged,
      files: files.map(f => ({ t: 'file', path: f.abs, size: f.st.size, mtimeNs: f.st.mtimeNs, ino: f.st.ino, name: f.name, mode: Number(f.st.mode & 0o7777n), mtimeMs: Number(f.st.mtimeNs / 1_000_000n) }))
    })
    if (r.t !== 'files' || r.results.length !== files.length) throw new Error('sealer answered a file batch with something else')
    // every chunk of the batch put at once: the block store appends them in a few writes
    const cids = await Promise.all(r.results.map(async one => one.t === 'file' ? await Promise.all(one.sealed.map(putSealed)) : []))
    for (const [k, f] of files.entries()) {
      const one = r.results[k]
      if (one.t !== 'file') continue // vanished or unreadable since readdir
      const chunks = cids[k]
      // the hash copied out of the answer's buffer: kept by the scan cache, a view would keep the batch's sealed bytes alive
      const entry = finish(f.rel, f.name, f.st, Buffer.from(one.sha256), chunks, one.size, one.unchanged)
      presealed.set(entry, { entry: one.entry, ...(one.boundary === undefined ? {} : { boundary: one.boundary }) })
      items[f.i] = entry
    }
  }

  const same = (a: BigIntStats, b: EntryStat): boolean => a.mtimeNs === b.mtimeNs && a.size === b.size && a.ino === b.ino

  /** A large changed file: streamed here, its chunks sealed by the sealer a batch at a time. */
  const readLarge = async (f: ToRead): Promise<Entry | undefined> => {
    const handle = await open(f.abs, constants.O_RDONLY | constants.O_NOFOLLOW).catch(() => undefined)
    if (handle === undefined) return undefined
    try {
      const hash = createHash('sha256')
      const chunks: CID[] = []
      let size = 0
      let batch: Uint8Array[] = []
      let batchBytes = 0
      const flush = async (): Promise<void> => {
        if (batch.length === 0) return
        const r = await sealer.run({ t: 'chunks', chunks: batch })
        batch = []; batchBytes = 0
        if (r.t !== 'chunks') throw new Error('sealer answered a chunk batch with something else')
        chunks.push(...await Promise.all(r.sealed.map(putSealed)))
      }
      const stream = handle.createReadStream({ autoClose: false, start: 0, highWaterMark: WHOLE_FILE_BYTES })
      for await (const chunk of init.chunker.chunks(stream)) {
        hash.update(chunk); size += chunk.byteLength
        // a chunk is a view of the read buffer: copied, so that only its bytes travel to the sealer
        batch.push(chunk.slice()); batchBytes += chunk.byteLength
        if (batchBytes >= SEAL_BATCH_BYTES) await flush()
      }
      await flush()
      return finish(f.rel, f.name, f.st, hash.digest(), chunks, size, same(await handle.stat({ bigint: true }), f.st))
    } finally {
      await handle.close()
    }
  }

  /**
   * A directory's names and the entries of its own files and symlinks
   * (undefined where a subdirectory or anything else is), in name order; its
   * subdirectories' names. One lstat message for the directory, then the
   * changed files a batch at a time.
   */
  const listFiles = async (abs: string, rel: string): Promise<{ names: string[], items: Array<Entry | undefined>, dirs: boolean[] }> => {
    // a restore's or merge's temporary file is not the user's; one a killed process left behind is removed
    const all = await readdir(abs)
    for (const n of all.filter(n => n.includes(TEMP_MARKER))) {
      const pid = Number(n.slice(n.lastIndexOf(TEMP_MARKER) + TEMP_MARKER.length))
      if (Number.isSafeInteger(pid) && pid > 0 && !processAlive(pid)) await rm(join(abs, n), { force: true })
    }
    const names = all.filter(n => !n.includes(TEMP_MARKER)).sort()
    const statted: Array<EntryStat | null> = []
    for (let at = 0; at < names.length; at += STAT_BATCH) {
      const r = await sealer.run({ t: 'stat', dir: abs, names: names.slice(at, at + STAT_BATCH) })
      if (r.t !== 'stat') throw new Error('sealer answered a stat batch with something else')
      statted.push(...r.stats)
    }
    const items = new Array<Entry | undefined>(names.length)
    const dirs = names.map((_, i) => statted[i]?.kind === 'dir')
    const small: ToRead[][] = [[]]
    let smallBytes = 0
    const large: ToRead[] = []
    for (const [i, name] of names.entries()) {
      const st = statted[i]
      if (st === null || st === undefined) continue
      const childRel = rel === '' ? name : `${rel}/${name}`
      if (st.kind === 'symlink' && st.target !== undefined) {
        items[i] = { kind: 'symlink', name, mode: Number(st.mode & 0o7777n), mtimeMs: Number(st.mtimeNs / 1_000_000n), target: st.target }
      } else if (st.kind === 'file') {
        // unchanged since the last scan (size, mtime, ctime, inode): not opened, not read
        const old = cached(childRel, st)
        if (old !== undefined) {
          cache.files.set(childRel, old)
          // cached before compression: its chunks stay format 1 (deduplicated with what the store holds)
          items[i] = fileEntry(name, st, old.sha256, old.chunks, Number(st.size), old.z === CHUNK_FORMAT.flagged ? CHUNK_FORMAT.flagged : CHUNK_FORMAT.plain)
          continue
        }
        const f = { i, abs: join(abs, name), rel: childRel, name, st }
        if (st.size > BigInt(SYNC_READ_BYTES)) { large.push(f); continue }
        const last = small[small.length - 1]
        if (last.length > 0 && (last.length >= FILE_BATCH || smallBytes + Number(st.size) > SMALL_BATCH_BYTES)) { small.push([]); smallBytes = 0 }
        small[small.length - 1].push(f); smallBytes += Number(st.size)
      } // directories below; sockets and devices skipped
    }
    await Promise.all([
      ...small.filter(b => b.length > 0).map(async b => { await fileWork.run(async () => { await readSmall(b, items, names.length > PAGE_THRESHOLD) }) }),
      ...large.map(async f => { items[f.i] = await fileWork.run(async () => await readLarge(f)) })
    ])
    return { names, items, dirs }
  }

  const scanDir = async (abs: string, rel: string): Promise<CID> => {
    // this directory's files hold a slot while listed and read; its subdirectories take their own (never held while waiting for them)
    const { names, items, dirs } = await dirWork.run(async () => await listFiles(abs, rel))
    const subdirs = await Promise.all(names.map(async (name, i): Promise<Entry | undefined> => {
      if (!dirs[i]) return items[i]
      const childAbs = join(abs, name)
      const st = await lstat(childAbs).catch(() => undefined)
      if (st?.isDirectory() !== true) return undefined
      const dir = await scanDir(childAbs, rel === '' ? name : `${rel}/${name}`)
      // its metadata after its contents: the scan itself may have removed a leftover temporary file
      const after = await lstat(childAbs).catch(() => st)
      return { kind: 'dir', name, mode: after.mode & 0o7777, mtimeMs: Math.floor(after.mtimeMs), dir }
    }))
    const entries: Entry[] = []
    for (const item of subdirs) {
      if (item === undefined) continue
      entries.push(item)
      if (item.kind === 'file') { stats.files++; stats.bytes += item.size }
    }
    init.onProgress?.({ type: 'personal:scan', done: stats.files, total: 0, detail: { dir: rel, hashedFiles: stats.hashedFiles } })
    // unchanged entries (same names, metadata, content hashes, chunk and subdirectory CIDs): the block sealed last time
    const sig = signature(entries)
    const previous = init.previous.dirs.get(rel)
    if (previous?.sig === sig) {
      cache.dirs.set(rel, previous)
      return parseCid(previous.cid)
    }
    stats.sealedDirs++
    const block = sealDir(init.keys, entries, presealed)
    for (const e of entries) presealed.delete(e)
    for (const page of block.pages) {
      if (await init.blockstore.put(page.cid, page.bytes, SEALED_PUT)) { stats.newBlocks++; stats.newBytes += page.bytes.byteLength }
    }
    if (await init.blockstore.put(block.cid, block.bytes, SEALED_PUT)) { stats.newBlocks++; stats.newBytes += block.bytes.byteLength }
    cache.dirs.set(rel, { sig, cid: block.cid.toString() })
    return block.cid
  }

  // a folder whose disk is not mounted looks empty: recording that would delete everything on the user's other machines
  const device = (await lstat(init.folder, { bigint: true })).dev.toString()
  const previous = init.previous.device
  if (previous !== undefined && previous !== device && init.previous.files.size > 0 && (await readdir(init.folder)).length === 0) {
    throw new FolderUnavailableError(`${init.folder} is empty and on another device than at the last scan (is its disk mounted?): not snapshotted`)
  }
  cache.device = device
  try {
    const root = await scanDir(init.folder, '')
    return { root, cache, stats }
  } finally {
    await sealer.close()
  }
}
