import { readFile } from 'node:fs/promises'
import type { LocalBlockstore } from '@cachecloud/blockstore'
import { formatVersionRef, isCacheCloudError, writeFileAtomic } from '@cachecloud/core'
import type { Catalog, CatalogEntry } from '@cachecloud/image'
import type { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import type { JobTracker } from './jobs.js'

/** Blocks handed to the block store per call (about a second of work at level 15): gc and prune run between two (a call holds gc's queue). */
const RECOMPRESS_BATCH_BLOCKS = 16
/** Blocks recompressed between two reclaims of the old records' space: what the work can take on disk beyond the store is about this many blocks' stored bytes and a pack. */
const RECLAIM_EVERY_BLOCKS = 512

/** recompressed.json as written. */
interface RecompressedFileJson { level?: unknown, versions?: unknown }

export interface RecompressionStatus {
  /** zstd level the blocks of versions imported here are kept at (config "restLevel"); 0: off. */
  level: number
  /** Versions imported here whose new blocks are still to be recompressed (the one in work included). */
  pendingVersions: number
  /** Stored bytes saved since the daemon started. */
  savedBytes: number
}

export interface RecompressionInit {
  blockstore: LocalBlockstore
  catalog: Catalog
  jobs: JobTracker
  /** Config "restLevel". */
  level: number
  /** This node's publisher key, formatted: only versions it published (imported here) are recompressed. */
  publisher: string
  /** recompressed.json in the data directory. */
  path: string
  logger: Logger
}

/**
 * Recompression at rest of what this node imports: an import compresses at
 * zstd level 3 to keep its rate; afterwards the blocks the version added
 * (those not in its parent) are encoded again at a high level (default 15)
 * on one background thread at the lowest priority, as a daemon job with
 * progress. The stored form is what every peer is sent, so the WAN bytes of
 * a rollout and every node's disk shrink with it; the space of the old forms
 * is reclaimed after each version (a gc that keeps every block). Versions done are listed
 * in recompressed.json; at a start, those imported here and not listed are
 * done then. A version removed meanwhile is skipped.
 */
export class Recompression {
  private readonly queue: string[] = []
  private done = new Set<string>()
  private doneLevel = 0
  private running: Promise<void> | undefined
  private readonly controller = new AbortController()
  private savedBytes = 0

  constructor (private readonly init: RecompressionInit) {}

  get enabled (): boolean { return this.init.level > 0 }

  /** Reads the list of versions done and queues the complete versions imported here that are not on it. */
  async start (): Promise<void> {
    if (!this.enabled) return
    await this.load()
    for (const entry of await this.init.catalog.list()) this.maybeQueue(entry)
    this.kick()
  }

  /** Queues a version just imported here; one imported at `importLevel` (--compression-level; absent: the store's, 3) at least the configured level is done already. */
  async imported (ref: string, importLevel?: number): Promise<void> {
    if (!this.enabled) return
    const entry = (await this.init.catalog.list()).find(e => formatVersionRef(e) === ref)
    if (entry === undefined) return
    if (importLevel !== undefined && importLevel >= this.init.level) {
      this.done.add(entry.cid.toString())
      await this.save()
      return
    }
    this.maybeQueue(entry)
    this.kick()
  }

  async stop (): Promise<void> {
    this.controller.abort(new Error('the daemon is stopping'))
    await this.running?.catch(() => {})
  }

  status (): RecompressionStatus {
    return { level: this.init.level, pendingVersions: this.queue.length, savedBytes: this.savedBytes }
  }

  private maybeQueue (entry: CatalogEntry): void {
    const cid = entry.cid.toString()
    if (entry.state !== 'complete' || entry.publisher !== this.init.publisher) return
    if (this.done.has(cid)) return
    if (!this.queue.includes(cid)) this.queue.push(cid)
  }

  private kick (): void {
    if (this.running !== undefined || this.queue.length === 0) return
    this.running = this.drain().finally(() => { this.running = undefined })
  }

  private async drain (): Promise<void> {
    while (this.queue.length > 0 && !this.controller.signal.aborted) {
      const cid = this.queue[0]
      try {
        await this.recompressVersion(cid)
        this.done.add(cid)
        await this.save()
      } catch (err) {
        if (this.controller.signal.aborted) return
        // a failure (a full disk, a removed version) is logged; the version is tried again at the next start
        this.init.logger.warn({ err: { code: isCacheCloudError(err) ? err.code : undefined, message: (err as Error).message }, cid }, 'recompressing %s failed: %s', cid, (err as Error).message)
      }
      // done or not, what was moved left dead space: reclaimed now
      await this.reclaim()
      this.queue.shift()
    }
  }

  private async recompressVersion (cid: string): Promise<void> {
    const { catalog, blockstore, jobs, level, logger } = this.init
    const entries = await catalog.list()
    const entry = entries.find(e => e.cid.toString() === cid)
    if (entry === undefined) return
    const ref = formatVersionRef(entry)
    const blocks = await this.addedBlocks(entry, entries)
    const started = performance.now()
    const total = { examined: 0, rewritten: 0, savedBytes: 0 }
    await jobs.run('recompress', ref, () => {}, async (progress) => {
      for (let at = 0; at < blocks.length; at += RECOMPRESS_BATCH_BLOCKS) {
        const batch = blocks.slice(at, at + RECOMPRESS_BATCH_BLOCKS)
        const r = await blockstore.recompress(batch, { level, signal: this.controller.signal })
        total.examined += r.examined
        total.rewritten += r.rewritten
        total.savedBytes += r.savedBytes
        this.savedBytes += r.savedBytes
        progress({ type: 'recompress:block', done: at + batch.length, total: blocks.length, unit: 'blocks' })
        if ((at + batch.length) % RECLAIM_EVERY_BLOCKS === 0) await this.reclaim()
      }
    })
    logger.info({ ref, level, blocks: blocks.length, ...total, ms: Math.round(performance.now() - started) }, 'recompressed %s at level %d: %d of %d blocks smaller, %d bytes saved', ref, level, total.rewritten, blocks.length, total.savedBytes)
  }

  /** Reclaims the old records' space: a gc that keeps every block (packs mostly dead are repacked or deleted). A failure is logged: the next reclaim tries again. */
  private async reclaim (): Promise<void> {
    if (this.controller.signal.aborted) return
    try {
      await this.init.blockstore.gc(() => true, { signal: this.controller.signal })
    } catch (err) {
      if (!this.controller.signal.aborted) this.init.logger.warn({ err: { message: (err as Error).message } }, 'reclaiming the space recompression freed failed: %s', (err as Error).message)
    }
  }

  /** The distinct blocks of a version that its parent (when held, among `entries`) does not have: what it added to the store. */
  private async addedBlocks (entry: CatalogEntry, entries: CatalogEntry[]): Promise<CID[]> {
    const { catalog } = this.init
    const manifest = await catalog.manifest(entry)
    const inParent = new Set<string>()
    if (entry.parent !== null) {
      const parent = entries.find(e => entry.parent !== null && e.cid.equals(entry.parent))
      if (parent !== undefined) for (const b of (await catalog.manifest(parent)).blocks) if (b !== null) inParent.add(b.toString())
    }
    const out = new Map<string, CID>()
    for (const b of manifest.blocks) {
      if (b === null) continue
      const key = b.toString()
      if (!inParent.has(key)) out.set(key, b)
    }
    return [...out.values()]
  }

  private async load (): Promise<void> {
    try {
      const doc = JSON.parse(await readFile(this.init.path, 'utf8')) as RecompressedFileJson
      this.doneLevel = typeof doc.level === 'number' ? doc.level : 0
      // done at a lower level than configured now: all of them are done again
      if (this.doneLevel < this.init.level) return
      this.done = new Set(Array.isArray(doc.versions) ? doc.versions.filter((v): v is string => typeof v === 'string') : [])
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.init.logger.warn({ err }, 'ignoring unreadable %s: the versions imported here are recompressed again', this.init.path)
    }
  }

  private async save (): Promise<void> {
    // a list read at a higher level than configured now stays valid at this one
    this.doneLevel = Math.max(this.doneLevel, this.init.level)
    await writeFileAtomic(this.init.path, JSON.stringify({ level: this.doneLevel, versions: [...this.done] }) + '\n')
  }
}
