/**
 * A bounded cache of read handles, one per pack, for positional reads.
 * Reads asked for in the same turn (before the next process.nextTick: every
 * promise chain started together has reached its read by then) are joined
 * where their ranges in one pack are near: one pread for several records,
 * each caller given its own view of the shared buffer.
 */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { MAX_JOINED_READ_BYTES, READ_GAP_BYTES } from './constants.js'
import { packFileName } from './pack-format.js'
import { readAt } from './read-at.js'

interface Reader {
  handle: Promise<FileHandle>
  users: number
  /** Evicted or its pack deleted: close when the last user is done. */
  retired: boolean
}

interface Wanted {
  offset: number
  length: number
  resolve: (bytes: Buffer) => void
  reject: (err: unknown) => void
}

export class PackReaders {
  /** In least-recently-used order (a Map iterates in insertion order). */
  private readonly readers = new Map<number, Reader>()
  /** Reads asked for since the last flush, by pack. */
  private wanted = new Map<number, Wanted[]>()
  private flushQueued = false
  /** Ranges read (a joined read counts once, however many preads finish it); for tests. */
  preads = 0

  constructor (private readonly dir: string, private readonly max: number) {}

  /** Reads exactly `length` bytes at `offset`; fewer when the pack is shorter. */
  async read (pack: number, offset: number, length: number): Promise<Buffer> {
    return await new Promise<Buffer>((resolve, reject) => {
      let list = this.wanted.get(pack)
      if (list === undefined) this.wanted.set(pack, list = [])
      list.push({ offset, length, resolve, reject })
      if (!this.flushQueued) {
        this.flushQueued = true
        process.nextTick(() => { this.flush() })
      }
    })
  }

  /** Forgets the handle of a pack about to be deleted (closed once unused). */
  forget (pack: number): void {
    const reader = this.readers.get(pack)
    if (reader === undefined) return
    this.readers.delete(pack)
    this.retire(reader)
  }

  async close (): Promise<void> {
    const all = [...this.readers.values()]
    this.readers.clear()
    for (const reader of all) this.retire(reader)
    await Promise.all(all.map(async r => await r.handle.catch(() => {})))
  }

  /** Issues the reads asked for: near ranges of a pack in one pread, up to MAX_JOINED_READ_BYTES. */
  private flush (): void {
    this.flushQueued = false
    const wanted = this.wanted
    this.wanted = new Map()
    for (const [pack, list] of wanted) {
      list.sort((a, b) => a.offset - b.offset)
      let group: Wanted[] = []
      let start = 0
      let end = 0
      for (const w of list) {
        const wEnd = w.offset + w.length
        if (group.length > 0 && w.offset <= end + READ_GAP_BYTES && Math.max(end, wEnd) - start <= MAX_JOINED_READ_BYTES) {
          group.push(w)
          end = Math.max(end, wEnd)
          continue
        }
        if (group.length > 0) void this.readGroup(pack, start, end, group)
        group = [w]
        start = w.offset
        end = wEnd
      }
      if (group.length > 0) void this.readGroup(pack, start, end, group)
    }
  }

  /** One pread of [start, end) answering every read of `group` (each a view of the buffer; shorter where the pack ends early). */
  private async readGroup (pack: number, start: number, end: number, group: Wanted[]): Promise<void> {
    let bytes: Buffer
    try {
      bytes = await this.readRange(pack, start, end - start)
    } catch (err) {
      for (const w of group) w.reject(err)
      return
    }
    for (const w of group) {
      const from = Math.min(w.offset - start, bytes.byteLength)
      w.resolve(bytes.subarray(from, Math.min(from + w.length, bytes.byteLength)))
    }
  }

  private async readRange (pack: number, offset: number, length: number): Promise<Buffer> {
    this.preads++
    const reader = this.acquire(pack)
    try {
      return await readAt(await reader.handle, offset, length)
    } finally {
      this.release(reader)
    }
  }

  private acquire (pack: number): Reader {
    let reader = this.readers.get(pack)
    if (reader !== undefined) {
      this.readers.delete(pack) // move to the most recently used end
    } else {
      const handle = fs.open(join(this.dir, packFileName(pack)), 'r')
      handle.catch(() => { if (this.readers.get(pack) === reader) this.readers.delete(pack) })
      reader = { handle, users: 0, retired: false }
    }
    this.readers.set(pack, reader)
    reader.users++
    for (const [id, old] of this.readers) {
      if (this.readers.size <= this.max) break
      if (old.users > 0) continue
      this.readers.delete(id)
      this.retire(old)
    }
    return reader
  }

  private release (reader: Reader): void {
    reader.users--
    if (reader.retired && reader.users === 0) this.closeHandle(reader)
  }

  private retire (reader: Reader): void {
    reader.retired = true
    if (reader.users === 0) this.closeHandle(reader)
  }

  private closeHandle (reader: Reader): void {
    reader.handle.then(async handle => { await handle.close() }, () => {}).catch(() => {})
  }
}
