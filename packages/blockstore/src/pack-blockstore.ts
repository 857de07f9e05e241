import { join } from 'node:path'
import { bytesMatchCid, cidOf, cidOfDigest, type AbortOptions } from '@cachecloud/core'
import type { CID } from 'multiformats/cid'
import { checkBlock, createCodecPool, DEFAULT_ZSTD_LEVEL, encodeBlock, ownsWholeBuffer, type BlockCheck, type CodecPool, type EncodedBlock } from '@cachecloud/codec'
import { BlockIndex } from './block-index.js'
import { cidOfKey, isSupportedCid, keyOf } from './cid-key.js'
import {
  DEFAULT_OPEN_PACKS, DEFAULT_WRITEBACK_BYTES, DEFAULT_PACK_BYTES, DEFAULT_REPACK_THRESHOLD,
  INDEX_COMPACT_MIN_BYTES, INDEX_FILE,
  MAX_BLOCK_BYTES, PACKS_DIR
} from './constants.js'
import {
  BlockCorruptError, BlockNotFoundError, BlockstoreClosedError, BlockTooLargeError, UnsupportedCidError
} from './errors.js'
import { fsyncPath, mapDiskFull } from './fs-util.js'
import { collectGarbage } from './gc.js'
import { IndexLog } from './index-log.js'
import { PackAppender, type Location } from './pack-appender.js'
import { packFileName } from './pack-format.js'
import { openLayout } from './layout.js'
import { PackReaders } from './pack-readers.js'
import { decodeVerified, readRecord } from './record-read.js'
import { recoverPacks, type RecoveryResult } from './recover.js'
import { checkStructure, verifyBlocks, type StructureReport, type VerifyOptions, type VerifyReport } from './verify.js'
import type { BlockstoreInit, BlockstoreStats, GcResult, LocalBlockstore, PutEncodedOptions, PutOptions, RecompressOptions, RecompressResult } from './index.js'
import { recompressBlocks } from './recompress.js'

/** Entries of the index log per byte of a fresh snapshot above which the log is rewritten. */
const LOG_SLACK = 2
/** Nice value of the recompression thread: the lowest priority, so imports, pulls and serving go first. */
const BACKGROUND_NICE = 19
/** Received blocks smaller than this are checked on the calling thread (the hop to a codec thread costs more than it saves). */
const MIN_POOLED_CHECK_BYTES = 32 * 1024

/** The parts that exist while the store is started. */
export interface OpenStore {
  index: BlockIndex
  log: IndexLog
  appender: PackAppender
  readers: PackReaders
}

class PackBlockstore implements LocalBlockstore {
  private readonly root: string
  private readonly packsDir: string
  private readonly packBytes: number
  private readonly openPacks: number
  private readonly repackThreshold: number
  private readonly writebackBytes: number
  private readonly compressionLevel: number
  private readonly codecThreads: number | undefined
  private pool: CodecPool | undefined
  /** One thread at the lowest priority for recompression, started on first use. */
  private backgroundPool: CodecPool | undefined
  /** Decoded bytes of blocks checked on this thread: only hashed, so one buffer serves every check. */
  private scratch = new Uint8Array(0)
  private open: OpenStore | undefined
  /** Puts in progress by key: a concurrent put of the same block waits for it and reports "not new". */
  private readonly writing = new Map<string, Promise<void>>()
  private commits: Promise<void> = Promise.resolve()
  private gcRun: Promise<unknown> = Promise.resolve()
  /** What the last start() found and repaired; for tests and logs. */
  lastRecovery: RecoveryResult = emptyRecovery()

  constructor (init: BlockstoreInit) {
    this.root = init.path
    this.packsDir = join(init.path, PACKS_DIR)
    this.packBytes = init.packBytes ?? DEFAULT_PACK_BYTES
    this.openPacks = init.openPacks ?? DEFAULT_OPEN_PACKS
    this.repackThreshold = init.repackThreshold ?? DEFAULT_REPACK_THRESHOLD
    this.writebackBytes = init.writebackBytes ?? DEFAULT_WRITEBACK_BYTES
    this.compressionLevel = init.compressionLevel ?? DEFAULT_ZSTD_LEVEL
    this.codecThreads = init.codecThreads
  }

  async start (): Promise<void> {
    if (this.open !== undefined) return
    await openLayout(this.root, this.packsDir)
    const index = new BlockIndex()
    const log = new IndexLog(join(this.root, INDEX_FILE), this.root)
    const recovery = emptyRecovery()
    try {
      const { batches, droppedBytes } = await log.open()
      recovery.droppedLogBytes = droppedBytes
      for (const batch of batches) index.apply(batch)
      const changed = await recoverPacks(this.packsDir, index, recovery)
      // Make the repaired state the committed one: salvaged records and cut tails first, then their index entries.
      for (const id of changed) await fsyncPath(join(this.packsDir, packFileName(id)))
      if (changed.length > 0 || index.pending.length > 0) {
        await log.append({ nextPackId: index.nextPackId, packs: changed.map(id => ({ id, size: index.pack(id).size })), ops: index.pending })
        index.pending = []
        for (const id of changed) index.pack(id).committed = index.pack(id).size
      }
      if (log.bytes > INDEX_COMPACT_MIN_BYTES && log.bytes > LOG_SLACK * snapshotBytes(index)) await log.rewrite(index.snapshot())
    } catch (err) {
      await log.close()
      throw mapDiskFull(err, `recovering the block store in ${this.root}`)
    }
    const appender = new PackAppender(this.packsDir, this.root, this.packBytes, this.writebackBytes, () => index.nextPackId++)
    const last = Math.max(0, ...index.packs.keys())
    if (last > 0) appender.resumeFrom(last, index.pack(last).size)
    this.lastRecovery = recovery
    this.open = { index, log, appender, readers: new PackReaders(this.packsDir, this.openPacks) }
  }

  async stop (): Promise<void> {
    const open = this.open
    if (open === undefined) return
    await this.commit(open)
    this.open = undefined
    await Promise.all([this.pool?.close(), this.backgroundPool?.close()])
    this.pool = undefined
    this.backgroundPool = undefined
    await open.appender.close()
    await open.readers.close()
    await open.log.close()
  }

  async has (cid: CID, options?: AbortOptions): Promise<boolean> {
    const { index } = this.opened(options)
    return isSupportedCid(cid) && index.has(keyOf(cid))
  }

  async get (cid: CID, options?: AbortOptions): Promise<Uint8Array> {
    const { block, entry } = await this.read(cid, options, false)
    const bytes = decodeVerified(cid, block)
    if (bytes !== undefined) return bytes
    this.drop(cid, entry)
    throw new BlockCorruptError(`block ${cid.toString()} was corrupt on disk and has been removed`)
  }

  async getEncoded (cid: CID, options?: AbortOptions): Promise<EncodedBlock> {
    return (await this.read(cid, options, true)).block
  }

  async put (cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<boolean> {
    const open = this.opened(options)
    if (!isSupportedCid(cid)) throw new UnsupportedCidError(`cannot store ${cid.toString()}: only CIDv1 with sha2-256`)
    assertSize(bytes.byteLength)
    if (!bytesMatchCid(cid, bytes)) throw new BlockCorruptError(`bytes do not hash to ${cid.toString()}`)
    if (open.index.has(keyOf(cid))) return false
    return await this.store(open, cid, await this.encode(bytes, options?.compressionLevel))
  }

  async putEncoded (cid: CID, block: EncodedBlock, options?: PutEncodedOptions): Promise<boolean> {
    const open = this.opened(options)
    if (!isSupportedCid(cid)) throw new UnsupportedCidError(`cannot store ${cid.toString()}: only CIDv1 with sha2-256`)
    assertSize(block.length)
    if (open.index.has(keyOf(cid))) {
      options?.release?.(block.bytes)
      return false
    }
    const checked = await this.check(cid, block, options?.detachable === true, options?.wholeBuffer === true)
    if ('problem' in checked) throw new BlockCorruptError(`block ${cid.toString()} ${checked.problem}`)
    const written = await this.store(open, cid, checked.block, checked.crc)
    options?.release?.(checked.block.bytes)
    return written
  }

  async putBytes (bytes: Uint8Array, options?: PutOptions): Promise<{ cid: CID, written: boolean }> {
    const open = this.opened(options)
    assertSize(bytes.byteLength)
    const computed = options?.computed
    const cid = computed === undefined ? cidOf(bytes) : cidOfDigest(computed.sha256)
    if (open.index.has(keyOf(cid))) return { cid, written: false }
    const block = await this.encode(bytes, options?.compressionLevel)
    // the caller's crc32 is of `bytes`: it checks the record only when they are kept as they are
    return { cid, written: await this.store(open, cid, block, block.bytes === bytes ? computed?.crc32 : undefined) }
  }

  async storedSize (cid: CID, options?: AbortOptions): Promise<number | undefined> {
    const { index } = this.opened(options)
    return isSupportedCid(cid) ? index.get(keyOf(cid))?.length : undefined
  }

  async delete (cid: CID): Promise<void> {
    const { index } = this.opened()
    if (!isSupportedCid(cid)) return
    const key = keyOf(cid)
    await this.writing.get(key)?.catch(() => {})
    index.remove(key)
  }

  async sync (): Promise<void> {
    await this.commit(this.opened())
  }

  async * cids (options?: AbortOptions): AsyncGenerator<CID> {
    const { index } = this.opened(options)
    for (const key of index.entries.keys()) {
      options?.signal?.throwIfAborted()
      yield cidOfKey(key)
    }
  }

  async stats (options?: AbortOptions): Promise<BlockstoreStats> {
    const { index } = this.opened(options)
    return { blocks: index.entries.size, bytes: index.bytes, storedBytes: index.storedBytes }
  }

  async gc (isLive: (cid: CID) => boolean, options?: AbortOptions): Promise<GcResult> {
    const open = this.opened(options)
    return await this.inMoveQueue(async () => await collectGarbage(open, {
      isLive,
      signal: options?.signal,
      repackThreshold: this.repackThreshold,
      packsDir: this.packsDir,
      commit: async (compact: boolean) => { await this.commit(open, compact) }
    }))
  }

  async recompress (cids: Iterable<CID>, options: RecompressOptions): Promise<RecompressResult> {
    const open = this.opened(options)
    this.backgroundPool ??= createCodecPool({ threads: 1, nice: BACKGROUND_NICE })
    const pool = this.backgroundPool
    return await this.inMoveQueue(async () => await recompressBlocks(open, cids, options, { pool, commit: async () => { await this.commit(open) } }))
  }

  /** Runs `fn` after the gc or recompression before it: two never move blocks at once. */
  private async inMoveQueue<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.gcRun.then(fn)
    this.gcRun = run.catch(() => {})
    return await run
  }

  async checkStructure (options?: AbortOptions): Promise<StructureReport> {
    const open = this.opened(options)
    // in the commit queue: no append to the log while it is read
    let report: StructureReport | undefined
    await this.inCommitQueue(async () => { report = await checkStructure(open, this.packsDir, join(this.root, INDEX_FILE), open.log.bytes) })
    return report as StructureReport
  }

  async verify (options?: VerifyOptions): Promise<VerifyReport> {
    return await verifyBlocks(this.opened(options), this.packsDir, options, this.codecThreads === 0 ? undefined : this.codecPool())
  }

  async repair (damaged: Iterable<CID>): Promise<void> {
    const open = this.opened()
    for (const cid of damaged) if (isSupportedCid(cid)) open.index.remove(keyOf(cid))
    // what is fetched again goes to a new pack (the active one may be a file deleted under us), and
    // cached read handles are reopened (one may still read a deleted pack that the index no longer trusts)
    await open.appender.seal()
    for (const id of [...open.index.packs.keys()]) open.readers.forget(id)
    await this.commit(open)
    // the log is rewritten whole from the index: a log cut short or damaged on disk is replaced by the committed state
    await this.inCommitQueue(async () => {
      await this.commitNow(open, false)
      if (open.index.pending.length === 0) await open.log.rewrite(open.index.snapshot())
    })
  }

  private async inCommitQueue (fn: () => Promise<void>): Promise<void> {
    const run = this.commits.then(fn)
    this.commits = run.catch(() => {})
    await run
  }

  /** The stored form of a block held, checked against its record's crc32 (format-2 records: hashed). Throws BlockNotFoundError or BlockCorruptError (the record is dropped). */
  private async read (cid: CID, options: AbortOptions | undefined, hashLegacy: boolean): Promise<{ block: EncodedBlock, entry: Location }> {
    const { index, readers } = this.opened(options)
    if (!isSupportedCid(cid)) throw new BlockNotFoundError(`block ${cid.toString()} not found (unsupported CID)`)
    const key = keyOf(cid)
    for (let attempt = 0; ; attempt++) {
      const entry = index.get(key)
      if (entry === undefined) throw new BlockNotFoundError(`block ${cid.toString()} not found`)
      const block = await readRecord(readers, key, entry)
      options?.signal?.throwIfAborted()
      if (block !== undefined && (!entry.legacy || !hashLegacy || bytesMatchCid(cid, block.bytes))) return { block, entry }
      // gc may have moved the block (and deleted its old pack) while we read: look again.
      if (index.get(key) !== entry && attempt < 3) continue
      this.drop(cid, entry)
      throw new BlockCorruptError(`block ${cid.toString()} was corrupt on disk and has been removed`)
    }
  }

  /** Removes a corrupt copy's entry, unless gc has moved the block meanwhile. */
  private drop (cid: CID, entry: Location): void {
    const { index } = this.opened()
    const key = keyOf(cid)
    if (index.get(key) === entry) index.remove(key)
  }

  /** The block's stored form: compressed on the codec threads (started on first use), or here when `codecThreads` is 0. */
  private async encode (raw: Uint8Array, level = this.compressionLevel): Promise<EncodedBlock> {
    if (level <= 0 || this.codecThreads === 0) return encodeBlock(raw, { level })
    return await this.codecPool().encode(raw, level)
  }

  /** A received block checked against its CID: on the codec threads for blocks worth the hop, else here. */
  private async check (cid: CID, block: EncodedBlock, detachable: boolean, wholeBuffer: boolean): Promise<BlockCheck> {
    const digest = cid.multihash.digest
    if (this.codecThreads !== 0 && block.bytes.byteLength >= MIN_POOLED_CHECK_BYTES) {
      if (detachable && wholeBuffer) return await this.codecPool().check(block, digest, MAX_BLOCK_BYTES, true)
      if (ownsWholeBuffer(block.bytes)) return await this.codecPool().check(block, digest, MAX_BLOCK_BYTES, detachable)
      // a view into a larger buffer (a received chunk, a joined pack read) would be cloned whole on its way to the
      // thread (structured clone copies a view's entire ArrayBuffer): copy just the block, and move the copy
      return await this.codecPool().check({ ...block, bytes: Buffer.from(block.bytes) }, digest, MAX_BLOCK_BYTES, true)
    }
    if (this.scratch.byteLength < block.length && block.length <= MAX_BLOCK_BYTES) this.scratch = new Uint8Array(block.length)
    return checkBlock(block, digest, MAX_BLOCK_BYTES, this.scratch)
  }

  private codecPool (): CodecPool {
    this.pool ??= createCodecPool({ level: this.compressionLevel, threads: this.codecThreads })
    return this.pool
  }

  /** Writes a verified block unless already held (committed or not); true when newly written. `crc`: of its bytes, when known. */
  private async store (open: OpenStore, cid: CID, block: EncodedBlock, crc?: number): Promise<boolean> {
    const { index, appender } = open
    const key = keyOf(cid)
    for (;;) {
      if (index.has(key)) return false
      const inFlight = this.writing.get(key)
      if (inFlight === undefined) break
      await inFlight.catch(() => {})
    }
    const write = appender.append(cid, block, location => { index.set(key, location) }, crc)
    this.writing.set(key, write)
    try {
      await write
      return true
    } finally {
      this.writing.delete(key)
    }
  }

  /** The commit point, one at a time: fsync the packs written since the last commit, then append their index changes to the log and fsync it. */
  private async commit (open: OpenStore, compact = false): Promise<void> {
    const run = this.commits.then(async () => { await this.commitNow(open, compact) })
    this.commits = run.catch(() => {})
    await run
  }

  private async commitNow ({ index, log, appender }: OpenStore, compact: boolean): Promise<void> {
    await appender.flush()
    const ops = index.pending
    index.pending = []
    const taken = appender.takeDirty()
    if (ops.length > 0 || taken.packs.length > 0 || taken.created) {
      try {
        await Promise.all(taken.packs.map(async pack => { await pack.handle.sync() }))
        if (taken.created) await fsyncPath(this.packsDir)
        await log.append({ nextPackId: index.nextPackId, packs: taken.packs.map(({ id, size }) => ({ id, size })), ops })
      } catch (err) {
        index.pending = ops.concat(index.pending)
        appender.restore(taken)
        throw mapDiskFull(err, `committing the block store in ${this.root}`)
      }
      for (const pack of taken.packs) {
        const info = index.packs.get(pack.id)
        if (info !== undefined) info.committed = Math.max(info.committed, pack.size)
        if (pack.sealed) await pack.handle.close()
      }
    }
    // Only when nothing is pending is the in-memory index exactly the committed state.
    if (compact && index.pending.length === 0 && log.bytes > INDEX_COMPACT_MIN_BYTES && log.bytes > LOG_SLACK * snapshotBytes(index)) {
      await log.rewrite(index.snapshot())
    }
  }

  private opened (options?: AbortOptions): OpenStore {
    if (this.open === undefined) throw new BlockstoreClosedError('block store is not started')
    options?.signal?.throwIfAborted()
    return this.open
  }
}

function emptyRecovery (): RecoveryResult {
  return { droppedLogBytes: 0, droppedEntries: 0, salvaged: 0, truncatedBytes: 0, deletedPacks: 0 }
}

/** Approximate size of a log rewritten from `index`: 54 bytes per raw or dag-cbor entry. */
function snapshotBytes (index: BlockIndex): number {
  return 64 + index.packs.size * 12 + index.entries.size * 54
}

/** True when `bytes` spans all of its ArrayBuffer (so moving the buffer moves nothing else). */

function assertSize (length: number): void {
  if (length > MAX_BLOCK_BYTES) {
    throw new BlockTooLargeError(`block of ${length} bytes exceeds the limit of ${MAX_BLOCK_BYTES}`)
  }
}

export function createPackBlockstore (init: BlockstoreInit): LocalBlockstore {
  return new PackBlockstore(init)
}
