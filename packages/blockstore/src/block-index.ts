/**
 * The in-memory index: block key -> location, per-pack accounting for gc, and
 * the index changes not yet committed to the index log. Every block present
 * (committed or written since the last commit) has exactly one entry.
 */
import type { Batch, IndexOp } from './index-log.js'
import type { Location } from './pack-appender.js'

export interface PackInfo {
  /** Bytes of the pack known to hold records (the file's length after recovery, then grown by appends). */
  size: number
  /** Length recorded by the last commit that wrote to the pack. */
  committed: number
  /** Stored bytes and count of the blocks whose entry points into the pack. */
  liveBytes: number
  blocks: number
}

export class BlockIndex {
  readonly entries = new Map<string, Location>()
  readonly packs = new Map<number, PackInfo>()
  /** Changes since the last commit, in order. */
  pending: IndexOp[] = []
  /** Raw (decoded) content bytes of all entries. */
  bytes = 0
  /** Stored bytes of all entries (what the records hold, compressed or not). */
  storedBytes = 0
  nextPackId = 1

  get (key: string): Location | undefined {
    return this.entries.get(key)
  }

  has (key: string): boolean {
    return this.entries.has(key)
  }

  pack (id: number): PackInfo {
    let info = this.packs.get(id)
    if (info === undefined) {
      info = { size: 0, committed: 0, liveBytes: 0, blocks: 0 }
      this.packs.set(id, info)
    }
    return info
  }

  /** Points `key` at `location` (replacing any entry) and logs the change for the next commit. */
  set (key: string, location: Location): void {
    this.unlink(key)
    this.entries.set(key, location)
    const info = this.pack(location.pack)
    info.size = Math.max(info.size, location.offset + location.length)
    info.liveBytes += location.length
    info.blocks++
    this.bytes += location.rawLength
    this.storedBytes += location.length
    this.pending.push({ type: 'put', key, ...location })
  }

  /** Removes `key`'s entry and logs the removal; returns it. */
  remove (key: string): Location | undefined {
    const old = this.unlink(key)
    if (old !== undefined) this.pending.push({ type: 'delete', key })
    return old
  }

  /** Replays a committed batch from the log. */
  apply (batch: Batch): void {
    this.nextPackId = Math.max(this.nextPackId, batch.nextPackId)
    for (const { id, size } of batch.packs) this.pack(id).committed = size
    for (const op of batch.ops) {
      if (op.type === 'put') this.set(op.key, { pack: op.pack, offset: op.offset, length: op.length, codec: op.codec, rawLength: op.rawLength, legacy: op.legacy })
      else this.remove(op.key)
    }
    this.pending = []
  }

  /** The whole committed state as one batch, for rewriting the log. Only valid when nothing is pending. */
  snapshot (): Batch {
    const packs = [...this.packs].map(([id, info]) => ({ id, size: info.committed }))
    const ops: IndexOp[] = []
    for (const [key, location] of this.entries) ops.push({ type: 'put', key, ...location })
    return { nextPackId: this.nextPackId, packs, ops }
  }

  private unlink (key: string): Location | undefined {
    const old = this.entries.get(key)
    if (old === undefined) return undefined
    this.entries.delete(key)
    const info = this.pack(old.pack)
    info.liveBytes -= old.length
    info.blocks--
    this.bytes -= old.rawLength
    this.storedBytes -= old.length
    return old
  }
}
