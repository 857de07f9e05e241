import { BlockCorruptError, BlockNotFoundError } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'
import type { ImageDevice, ImageDeviceInit } from './index.js'
import { BLOCK_CACHE_ENTRIES, COMMIT_BYTES, DEFAULT_FETCH_TIMEOUT_MS, DEFAULT_HAVE_MAX_AGE_MS, HOLD_GRACE_MS, MAX_CONCURRENT_FETCHES } from './constants.js'
import { fetchNow, type FetcherInit, type IndexedWant } from './fetcher.js'
import { Holders } from './holders.js'
import { Latency, type ImageDeviceStats } from './stats.js'

export class SwarmImageDevice implements ImageDevice {
  readonly size: number
  private readonly blockSize: number
  private readonly fetcher: FetcherInit
  private readonly inFlight = new Map<string, Promise<void>>()
  private readonly cache = new Map<number, Uint8Array>()
  private readonly onDemand = new Latency()
  private readonly local = new Latency()
  private readonly closing = new AbortController()
  private readonly byPeer = new Map<string, number>()
  private sinceCommit = 0
  private readonly counters = {
    reads: 0,
    readBytes: 0,
    onDemandReads: 0,
    fetchedBlocks: 0,
    fetchedBytes: 0,
    wireBytes: 0,
    localBlocks: 0,
    holeBlocks: 0,
    failedReads: 0
  }

  constructor (private readonly init: ImageDeviceInit) {
    this.size = init.manifest.size
    this.blockSize = init.manifest.blockSize
    const label = `${init.manifest.name}@${init.manifest.version}`
    this.fetcher = {
      libp2p: init.libp2p,
      blockstore: init.blockstore,
      holders: new Holders(init.libp2p, init.manifestCid, init.site ?? '', init.haveMaxAgeMs ?? DEFAULT_HAVE_MAX_AGE_MS),
      timeoutMs: init.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      label,
      log: init.logger,
      onStored: (peer, want) => {
        this.counters.fetchedBlocks++
        this.counters.fetchedBytes += want.length
        this.byPeer.set(peer, (this.byPeer.get(peer) ?? 0) + want.length)
        this.sinceCommit += want.length
        if (this.sinceCommit >= COMMIT_BYTES) {
          // blocks fetched on demand are kept like pulled ones; a crash before the commit only means fetching them again
          this.sinceCommit = 0
          init.blockstore.sync().catch((err: Error) => { init.logger?.warn({ err }, 'committing blocks fetched on demand failed: %s', err.message) })
        }
        init.onBlockStored?.(want.cid, peer)
      },
      onWire: (bytes) => { this.counters.wireBytes += bytes },
      ...(init.receiveBudget !== undefined ? { receiveBudget: init.receiveBudget } : {})
    }
  }

  async read (offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const started = performance.now()
    const { blocks } = this.init.manifest
    const out = new Uint8Array(length)
    const first = Math.floor(offset / this.blockSize)
    const last = Math.floor((offset + length - 1) / this.blockSize)
    const got = new Map<number, Uint8Array>()
    const missing: number[] = []
    let fetched = false
    try {
      await Promise.all(range(first, last).map(async i => {
        const cid = blocks[i]
        if (cid === null) { this.counters.holeBlocks++; return }
        const bytes = await this.localBlock(i, cid)
        if (bytes === undefined) missing.push(i)
        else got.set(i, bytes)
      }))
      if (missing.length > 0) {
        fetched = true
        await this.fetch(missing, signal === undefined ? this.closing.signal : AbortSignal.any([signal, this.closing.signal]))
        for (const i of missing) got.set(i, await this.init.blockstore.get(blocks[i] as CID))
      }
    } catch (err) {
      this.counters.failedReads++
      throw err
    }
    for (const [i, bytes] of got) {
      const start = i * this.blockSize
      const from = Math.max(offset, start)
      const to = Math.min(offset + length, start + bytes.byteLength)
      out.set(bytes.subarray(from - start, to - start), from - offset)
    }
    this.counters.reads++
    this.counters.readBytes += length
    if (fetched) { this.counters.onDemandReads++; this.onDemand.add(performance.now() - started) } else this.local.add(performance.now() - started)
    return out
  }

  /** The block from the store (verified there) or the small cache; undefined when this node lacks it. */
  private async localBlock (i: number, cid: CID): Promise<Uint8Array | undefined> {
    const cached = this.cache.get(i)
    if (cached !== undefined) { this.counters.localBlocks++; return cached }
    try {
      const bytes = await this.init.blockstore.get(cid)
      this.counters.localBlocks++
      this.cache.set(i, bytes)
      if (this.cache.size > BLOCK_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as number)
      return bytes
    } catch (err) {
      if (err instanceof BlockNotFoundError || err instanceof BlockCorruptError) return undefined // a local miss: fetched from peers
      throw err
    }
  }

  /** Fetches the blocks at `indexes`; a block another read is already fetching is waited for, not fetched twice. */
  private async fetch (indexes: number[], signal: AbortSignal): Promise<void> {
    const { blocks } = this.init.manifest
    const waits: Array<Promise<void>> = []
    const wants: IndexedWant[] = []
    for (const i of indexes) {
      const key = (blocks[i] as CID).toString()
      const running = this.inFlight.get(key)
      if (running !== undefined) waits.push(running)
      else if (!wants.some(w => w.cid.toString() === key)) {
        wants.push({
          cid: blocks[i] as CID,
          length: Math.min(this.blockSize, this.size - i * this.blockSize),
          index: i
        })
      }
    }
    if (wants.length > 0) {
      const run = this.limited(async () => {
        const release = this.init.onFetch?.()
        try {
          await fetchNow(this.fetcher, wants, signal)
        } finally {
          if (release !== undefined) setTimeout(release, this.closing.signal.aborted ? 0 : HOLD_GRACE_MS).unref()
        }
      })
      for (const w of wants) this.inFlight.set(w.cid.toString(), run)
      void run.catch(() => {}).finally(() => { for (const w of wants) if (this.inFlight.get(w.cid.toString()) === run) this.inFlight.delete(w.cid.toString()) })
      waits.push(run)
    }
    await Promise.all(waits)
  }

  private running = 0
  private readonly queue: Array<() => void> = []

  /** Runs `fn` when fewer than MAX_CONCURRENT_FETCHES fetches are in progress. */
  private async limited (fn: () => Promise<void>): Promise<void> {
    // a finished fetch hands its slot straight to the next one waiting
    if (this.running >= MAX_CONCURRENT_FETCHES) await new Promise<void>(resolve => { this.queue.push(resolve) })
    else this.running++
    try {
      await fn()
    } finally {
      const next = this.queue.shift()
      if (next !== undefined) next()
      else this.running--
    }
  }

  stats (): ImageDeviceStats {
    return { ...this.counters, fetchedByPeer: Object.fromEntries(this.byPeer), onDemandLatencyMs: this.onDemand.summary(), localLatencyMs: this.local.mean }
  }

  close (): void { this.closing.abort(new Error('image device closed')) }
}

function range (a: number, b: number): number[] {
  const out: number[] = []
  for (let i = a; i <= b; i++) out.push(i)
  return out
}
