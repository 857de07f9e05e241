/** A bounded cache of read handles, one per pack, for positional reads. */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { packFileName } from './pack-format.js'

interface Reader {
  handle: Promise<FileHandle>
  users: number
  /** Evicted or its pack deleted: close when the last user is done. */
  retired: boolean
}

export class PackReaders {
  /** In least-recently-used order (a Map iterates in insertion order). */
  private readonly readers = new Map<number, Reader>()

  constructor (private readonly dir: string, private readonly max: number) {}

  /** Reads exactly `length` bytes at `offset`; fewer when the pack is shorter. */
  async read (pack: number, offset: number, length: number): Promise<Buffer> {
    const reader = this.acquire(pack)
    try {
      const handle = await reader.handle
      const bytes = Buffer.allocUnsafe(length)
      let done = 0
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, offset + done)
        if (bytesRead === 0) break
        done += bytesRead
      }
      return done === length ? bytes : bytes.subarray(0, done)
    } finally {
      this.release(reader)
    }
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
