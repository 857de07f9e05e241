import { DEFAULT_CACHE_BLOCK_BYTES, DEFAULT_CACHE_MAX_BYTES } from './constants.js'
import type { BlockDevice } from './index.js'

export interface BlockCacheInit {
  /** Memory budget of cached bytes. Default DEFAULT_CACHE_MAX_BYTES. */
  maxBytes?: number
  /** Bytes per cached block (reads are widened to whole blocks). Default DEFAULT_CACHE_BLOCK_BYTES. */
  blockBytes?: number
}

export interface BlockCacheStats {
  /** Cache blocks served from memory, or joined to a read of the base already in progress. */
  hits: number
  /** Cache blocks read from the base. */
  misses: number
  /** Bytes read from the base. */
  baseReadBytes: number
  /** Bytes held now (at most maxBytes). */
  cachedBytes: number
}

/** A read-only device shared by many readers (the clones of a pool): each block is read from the base once while it stays cached. */
export interface BlockCache extends BlockDevice {
  stats(): BlockCacheStats
}

/** An LRU cache of whole blocks in front of a read-only device, bounded in bytes; concurrent reads of one block share one base read. */
export function createBlockCache (base: BlockDevice, init: BlockCacheInit = {}): BlockCache {
  return new LruBlockCache(base, init.blockBytes ?? DEFAULT_CACHE_BLOCK_BYTES, init.maxBytes ?? DEFAULT_CACHE_MAX_BYTES)
}

class LruBlockCache implements BlockCache {
  private readonly cached = new Map<number, Uint8Array>()
  private readonly reading = new Map<number, Promise<Uint8Array>>()
  private readonly counts: BlockCacheStats = { hits: 0, misses: 0, baseReadBytes: 0, cachedBytes: 0 }

  constructor (private readonly base: BlockDevice, private readonly blockBytes: number, private readonly maxBytes: number) {}

  get size (): number { return this.base.size }

  stats (): BlockCacheStats { return { ...this.counts } }

  private async block (index: number): Promise<Uint8Array> {
    const hit = this.cached.get(index)
    if (hit !== undefined) {
      // most recently used last: eviction takes the first
      this.cached.delete(index)
      this.cached.set(index, hit)
      this.counts.hits++
      return hit
    }
    const pending = this.reading.get(index)
    if (pending !== undefined) { this.counts.hits++; return await pending }
    this.counts.misses++
    const start = index * this.blockBytes
    const length = Math.min(this.blockBytes, this.base.size - start)
    // no reader's signal: the read is shared, one client leaving must not fail the others
    const read = this.base.read(start, length).then(bytes => {
      this.counts.baseReadBytes += length
      this.keep(index, bytes)
      return bytes
    }).finally(() => { this.reading.delete(index) })
    this.reading.set(index, read)
    return await read
  }

  private keep (index: number, bytes: Uint8Array): void {
    if (bytes.byteLength > this.maxBytes) return
    this.cached.set(index, bytes)
    this.counts.cachedBytes += bytes.byteLength
    for (const [key, value] of this.cached) {
      if (this.counts.cachedBytes <= this.maxBytes) break
      this.cached.delete(key)
      this.counts.cachedBytes -= value.byteLength
    }
  }

  async read (offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const out = new Uint8Array(length)
    const end = offset + length
    const first = Math.floor(offset / this.blockBytes)
    const last = Math.floor((end - 1) / this.blockBytes)
    await Promise.all(Array.from({ length: last - first + 1 }, async (_, i) => {
      const index = first + i
      const bytes = await this.block(index)
      signal?.throwIfAborted()
      const start = index * this.blockBytes
      const from = Math.max(offset, start)
      const to = Math.min(end, start + bytes.byteLength)
      out.set(bytes.subarray(from - start, to - start), from - offset)
    }))
    return out
  }
}
