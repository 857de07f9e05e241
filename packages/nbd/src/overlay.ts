import { chmod, mkdir, open, readFile, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFileAtomic } from '@cachecloud/core'
import { NBD_EPERM, OVERLAY_CHUNK_BYTES, OVERLAY_DIR_MODE, OVERLAY_FILE_MODE, OVERLAY_FORMAT } from './constants.js'
import { DeviceError, OverlayFrozenError, OverlayMismatchError } from './errors.js'
import type { BlockDevice } from './index.js'

export interface OverlayInit {
  /** Directory of the overlay: meta.json, data (sparse, image-sized) and map (written chunks). Created if missing. */
  dir: string
  base: BlockDevice
  /** Identity of the base (e.g. a manifest CID): an existing overlay over another base is refused. */
  baseId: string
  /** Shown in listings (e.g. NAME@VERSION). */
  label?: string
  /** Name of the overlay whose state is the base (a clone of a clone), recorded in meta.json when created. */
  parent?: string | null
  /** Open an existing overlay for reading only (a layer under a clone, or a commit): nothing is created or written. */
  readOnly?: boolean
}

/** What an overlay's meta.json holds (docs/formats/nbd.md, "Overlays"). */
export interface OverlayInfo {
  format: typeof OVERLAY_FORMAT
  baseId: string
  label: string
  size: number
  chunkBytes: number
  createdAt: string
  /** The overlay this one was cloned from (its state is this one's base), or absent for one over a version. */
  parent?: string | null
  /** Set when a clone is made of it: its state is another overlay's base and takes no more writes. */
  frozen?: boolean
}

export interface Overlay extends BlockDevice {
  write(offset: number, data: Uint8Array): Promise<void>
  flush(): Promise<void>
  /** Chunks written (each OVERLAY_CHUNK_BYTES). */
  readonly writtenChunks: number
  /** Bytes per chunk of this overlay. */
  readonly chunkBytes: number
  /** Indexes of the chunks written, ascending. */
  chunkIndexes(): number[]
  /** Flushes and closes the data file. */
  close(): Promise<void>
}

export async function readOverlayInfo (dir: string): Promise<OverlayInfo> {
  const info = JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as OverlayInfo
  if (info.format !== OVERLAY_FORMAT) throw new OverlayMismatchError(`${dir} is not an overlay (format ${String(info.format)})`)
  if (!Number.isSafeInteger(info.size) || info.size <= 0 || !Number.isSafeInteger(info.chunkBytes) || info.chunkBytes <= 0) throw new OverlayMismatchError(`${dir}/meta.json has no valid size and chunkBytes`)
  return info
}

/** Indexes of the written chunks of the overlay in `dir` (its map as last flushed), ascending. */
export async function readOverlayChunks (dir: string): Promise<number[]> {
  const info = await readOverlayInfo(dir)
  const map = await readFile(join(dir, 'map')).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return new Uint8Array(0); throw err })
  return setBits(map.subarray(0, Math.ceil(Math.ceil(info.size / info.chunkBytes) / 8)))
}

/** Marks an overlay frozen (its state is another's base now): createOverlay then refuses to open it writable. `false` thaws it (its last clone went). */
export async function freezeOverlay (dir: string, frozen = true): Promise<OverlayInfo> {
  const info = await readOverlayInfo(dir)
  if ((info.frozen === true) === frozen) return info
  const next = { ...info, frozen }
  await writeFileAtomic(join(dir, 'meta.json'), JSON.stringify(next, null, 2) + '\n', { mode: OVERLAY_FILE_MODE })
  return next
}

function setBits (map: Uint8Array): number[] {
  const out: number[] = []
  for (let i = 0; i < map.byteLength; i++) {
    const byte = map[i]
    if (byte === 0) continue
    for (let b = 0; b < 8; b++) if ((byte & (1 << b)) !== 0) out.push(i * 8 + b)
  }
  return out
}

/** Opens (or creates) a copy-on-write overlay: reads of unwritten chunks go to the base, writes to a local delta. */
export async function createOverlay (init: OverlayInit): Promise<Overlay> {
  if (init.readOnly === true) return await openReadOnly(init)
  // a guest's disk writes: readable by the daemon's user only (overlays made before were 0644: tightened here)
  await mkdir(init.dir, { recursive: true, mode: OVERLAY_DIR_MODE })
  await chmod(init.dir, OVERLAY_DIR_MODE)
  let info: OverlayInfo
  try {
    info = await readOverlayInfo(init.dir)
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err
    info = {
      format: OVERLAY_FORMAT, baseId: init.baseId, label: init.label ?? init.baseId, size: init.base.size, chunkBytes: OVERLAY_CHUNK_BYTES,
      createdAt: new Date().toISOString(), ...(init.parent === undefined || init.parent === null ? {} : { parent: init.parent })
    }
    await writeFileAtomic(join(init.dir, 'meta.json'), JSON.stringify(info, null, 2) + '\n', { mode: OVERLAY_FILE_MODE })
  }
  if (info.baseId !== init.baseId || info.size !== init.base.size) {
    throw new OverlayMismatchError(`overlay ${init.dir} belongs to ${info.label} (${info.baseId}), not to this image; discard it or choose another name`)
  }
  if (info.frozen === true) throw new OverlayFrozenError(`overlay ${init.dir} is the base of a clone and takes no more writes; serve a clone of it instead`)
  const chunks = Math.ceil(info.size / info.chunkBytes)
  const map = new Uint8Array(Math.ceil(chunks / 8))
  try {
    map.set((await readFile(join(init.dir, 'map'))).subarray(0, map.byteLength))
  } catch (err) {
    if ((err as { code?: string }).code !== 'ENOENT') throw err
  }
  const fh = await open(join(init.dir, 'data'), 'a+', OVERLAY_FILE_MODE).then(async h => { await h.close(); return await open(join(init.dir, 'data'), 'r+') })
  for (const file of ['data', 'meta.json', 'map']) await chmod(join(init.dir, file), OVERLAY_FILE_MODE).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
  if ((await stat(join(init.dir, 'data'))).size !== info.size) await fh.truncate(info.size)
  return new CopyOnWrite(init.dir, init.base, fh, map, info.chunkBytes, info.size)
}

async function openReadOnly (init: OverlayInit): Promise<Overlay> {
  const info = await readOverlayInfo(init.dir)
  if (info.baseId !== init.baseId || info.size !== init.base.size) throw new OverlayMismatchError(`overlay ${init.dir} belongs to ${info.label} (${info.baseId}), not to this base`)
  const map = new Uint8Array(Math.ceil(Math.ceil(info.size / info.chunkBytes) / 8))
  for (const c of await readOverlayChunks(init.dir)) map[c >> 3] |= 1 << (c & 7)
  const fh = await open(join(init.dir, 'data'), 'r')
  const cow = new CopyOnWrite(init.dir, init.base, fh, map, info.chunkBytes, info.size)
  return Object.assign(cow, {
    write: async (): Promise<void> => { throw new DeviceError('this overlay is open read-only', NBD_EPERM) },
    flush: async (): Promise<void> => {}
  })
}

class CopyOnWrite implements Overlay {
  private writes: Promise<unknown> = Promise.resolve()
  private dirty = false
  private written: number

  constructor (
    private readonly dir: string,
    private readonly base: BlockDevice,
    private readonly fh: FileHandle,
    private readonly map: Uint8Array,
    private readonly chunk: number,
    readonly size: number
  ) {
    this.written = 0
    for (const byte of map) for (let b = byte; b !== 0; b &= b - 1) this.written++
  }

  get writtenChunks (): number { return this.written }
  get chunkBytes (): number { return this.chunk }
  chunkIndexes (): number[] { return setBits(this.map) }

  private has (c: number): boolean { return (this.map[c >> 3] & (1 << (c & 7))) !== 0 }

  async read (offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array> {
    const out = new Uint8Array(length)
    const end = offset + length
    // runs of chunks from the same side: one read each
    let pos = offset
    while (pos < end) {
      const local = this.has(Math.floor(pos / this.chunk))
      let next = (Math.floor(pos / this.chunk) + 1) * this.chunk
      while (next < end && this.has(Math.floor(next / this.chunk)) === local) next += this.chunk
      const runEnd = Math.min(end, next)
      if (local) await this.fh.read(out, pos - offset, runEnd - pos, pos)
      else out.set(await this.base.read(pos, runEnd - pos, signal), pos - offset)
      pos = runEnd
    }
    return out
  }

  async write (offset: number, data: Uint8Array): Promise<void> {
    const run = this.writes.then(async () => { await this.writeNow(offset, data) })
    this.writes = run.catch(() => {})
    await run
  }

  private async writeNow (offset: number, data: Uint8Array): Promise<void> {
    const end = offset + data.byteLength
    const first = Math.floor(offset / this.chunk)
    const last = Math.floor((end - 1) / this.chunk)
    // a chunk written in part for the first time takes the rest of its bytes from the base
    for (const c of new Set([first, last])) {
      const start = c * this.chunk
      const stop = Math.min(this.size, start + this.chunk)
      if (this.has(c) || (offset <= start && end >= stop)) continue
      await this.fh.write(await this.base.read(start, stop - start), 0, stop - start, start)
    }
    await this.fh.write(data, 0, data.byteLength, offset)
    for (let c = first; c <= last; c++) {
      if (!this.has(c)) { this.map[c >> 3] |= 1 << (c & 7); this.written++ }
    }
    this.dirty = true
  }

  async flush (): Promise<void> {
    const run = this.writes.then(async () => {
      if (!this.dirty) return
      this.dirty = false
      // data first, then the map that points at it: a crash loses at most unflushed writes
      await this.fh.datasync()
      await writeFileAtomic(join(this.dir, 'map'), this.map, { mode: OVERLAY_FILE_MODE })
    })
    this.writes = run.catch(() => {})
    await run
  }

  async close (): Promise<void> {
    await this.flush()
    await this.fh.close()
  }
}
