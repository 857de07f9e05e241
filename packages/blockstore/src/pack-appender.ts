/**
 * Appends block records to the active pack. Records queued while a write is
 * in flight are merged into the next positional writev (up to
 * MAX_APPEND_BYTES), so concurrent puts cost one thread-pool hop per batch and
 * no file creation or fsync per block. Memory stays bounded by the callers'
 * own buffers: a put resolves only once its bytes are written (not yet
 * fsynced; that is the commit point's job).
 */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { MAX_APPEND_BYTES, MAX_APPEND_RECORDS } from './constants.js'
import { mapDiskFull } from './fs-util.js'
import type { Codec, EncodedBlock } from '@cachecloud/codec'
import { PACK_HEADER, packFileName, recordHeaderBytes, writeRecordHeader } from './pack-format.js'

/** Where a block's stored bytes lie: `length` bytes at `offset` of pack `pack`, decoding with `codec` to `rawLength` bytes. */
export interface Location {
  pack: number
  offset: number
  length: number
  codec: Codec
  rawLength: number
  /** A format-2 record (no codec, no crc): verified by hashing only. */
  legacy: boolean
}

interface Job {
  cid: CID
  block: EncodedBlock
  /** crc32 of the block's bytes when the caller computed it already (else computed here). */
  crc: number | undefined
  /** Called synchronously once the record is written, before any later commit can start. */
  onWritten: (location: Location) => void
  resolve: () => void
  reject: (err: unknown) => void
}

interface OpenPack {
  id: number
  handle: FileHandle
  size: number
}

/** A pack written since the last commit: fsync it, then record `size` as committed. */
export interface DirtyPack {
  id: number
  size: number
  handle: FileHandle
  /** No longer the active pack: close the handle once committed. */
  sealed: boolean
}

export class PackAppender {
  private active: OpenPack | undefined
  private resume: { id: number, size: number } | undefined
  private queue: Job[] = []
  private draining: Promise<void> | undefined
  private dirty = new Map<number, DirtyPack>()
  /** A pack file was created since the last commit, so the directory needs an fsync. */
  private created = false
  /** Bytes appended since the last background writeback was started. */
  private unsynced = 0
  private writeback: Promise<void> | undefined

  constructor (
    private readonly dir: string,
    private readonly root: string,
    private readonly packBytes: number,
    private readonly writebackBytes: number,
    private readonly allocateId: () => number
  ) {}

  /** The pack appends go to, if one is open. */
  get activeId (): number | undefined {
    return this.active?.id
  }

  /** Continue appending to an existing pack (whose on-disk size is `size`) instead of starting a new one. */
  resumeFrom (id: number, size: number): void {
    this.resume = { id, size }
  }

  /**
   * Stops appending to the current pack now (gc: it may then be repacked or
   * deleted like any other); the next append starts a new pack. Waits for
   * appends in flight, which belong to the old pack.
   */
  async seal (): Promise<void> {
    await this.flush()
    this.resume = undefined
    await this.retireActive()
  }

  /** No more appends to the active pack: a pack still to be committed is closed by that commit, any other now. */
  private async retireActive (): Promise<void> {
    const active = this.active
    if (active === undefined) return
    this.active = undefined
    const dirty = this.dirty.get(active.id)
    if (dirty !== undefined) dirty.sealed = true
    else await active.handle.close()
  }

  isDirty (id: number): boolean {
    return this.dirty.has(id) || this.active?.id === id
  }

  async append (cid: CID, block: EncodedBlock, onWritten: (location: Location) => void, crc?: number): Promise<void> {
    const done = new Promise<void>((resolve, reject) => { this.queue.push({ cid, block, crc, onWritten, resolve, reject }) })
    this.kick()
    await done
  }

  /** Resolves once every record queued before the call is written. */
  async flush (): Promise<void> {
    while (this.draining !== undefined) await this.draining
  }

  /** Hands the packs written since the last commit to a commit; `restore` them if it fails. */
  takeDirty (): { packs: DirtyPack[], created: boolean } {
    const taken = { packs: [...this.dirty.values()].map(p => ({ ...p })), created: this.created }
    this.dirty.clear()
    this.created = false
    return taken
  }

  restore (taken: { packs: DirtyPack[], created: boolean }): void {
    for (const pack of taken.packs) {
      const now = this.dirty.get(pack.id)
      if (now === undefined) this.dirty.set(pack.id, pack)
      else now.sealed ||= pack.sealed
    }
    this.created ||= taken.created
  }

  /** Closes the active pack (after `flush`); dirty handles are closed by the caller's last commit. */
  async close (): Promise<void> {
    await this.flush()
    await this.writeback
    const active = this.active
    this.active = undefined
    if (active !== undefined && !this.dirty.has(active.id)) await active.handle.close()
    for (const pack of this.dirty.values()) await pack.handle.close().catch(() => {})
    this.dirty.clear()
  }

  private kick (): void {
    if (this.draining !== undefined) return
    this.draining = this.drain().finally(() => {
      this.draining = undefined
      if (this.queue.length > 0) this.kick()
    })
  }

  private async drain (): Promise<void> {
    while (this.queue.length > 0) {
      let bytes = 0
      let n = 0
      while (n < this.queue.length && n < MAX_APPEND_RECORDS && (n === 0 || bytes < MAX_APPEND_BYTES)) {
        const job = this.queue[n++] as Job
        bytes += recordHeaderBytes(job.cid.bytes.byteLength) + job.block.bytes.byteLength
      }
      await this.write(this.queue.splice(0, n), bytes)
    }
  }

  /** Writes `jobs` as consecutive records; settles every job, never throws. */
  private async write (jobs: Job[], bytes: number): Promise<void> {
    let pack: OpenPack
    try {
      pack = await this.packFor(bytes)
    } catch (err) {
      for (const job of jobs) job.reject(mapDiskFull(err, describe(job, this.root)))
      return
    }
    const headers = Buffer.allocUnsafe(jobs.reduce((sum, job) => sum + recordHeaderBytes(job.cid.bytes.byteLength), 0))
    const iovecs: Uint8Array[] = []
    const locations: Location[] = []
    let headerAt = 0
    let offset = pack.size
    for (const job of jobs) {
      const { bytes: data, codec, length: rawLength } = job.block
      const headerBytes = writeRecordHeader(headers, headerAt, job.cid.bytes, job.block, job.crc)
      iovecs.push(headers.subarray(headerAt, headerAt + headerBytes), data)
      headerAt += headerBytes
      locations.push({ pack: pack.id, offset: offset + headerBytes, length: data.byteLength, codec, rawLength, legacy: false })
      offset += headerBytes + data.byteLength
    }
    try {
      await writevFully(pack.handle, iovecs, pack.size)
    } catch (err) {
      // Cut the partial records off; if that fails too, the next write overwrites them (positional).
      await pack.handle.truncate(pack.size).catch(() => {})
      for (const job of jobs) job.reject(mapDiskFull(err, describe(job, this.root)))
      return
    }
    pack.size = offset
    this.markDirty(pack)
    this.startWriteback(pack, bytes)
    jobs.forEach((job, i) => { job.onWritten(locations[i] as Location) })
    for (const job of jobs) job.resolve()
  }

  private async packFor (bytes: number): Promise<OpenPack> {
    if (this.active === undefined && this.resume !== undefined) {
      const { id, size } = this.resume
      this.resume = undefined
      if (size + bytes <= this.packBytes) this.active = { id, size, handle: await fs.open(join(this.dir, packFileName(id)), 'r+') }
    }
    const active = this.active
    if (active !== undefined && (active.size === PACK_HEADER.byteLength || active.size + bytes <= this.packBytes)) return active
    await this.retireActive()
    this.active = await this.createPack()
    return this.active
  }

  private async createPack (): Promise<OpenPack> {
    const id = this.allocateId()
    const path = join(this.dir, packFileName(id))
    const handle = await fs.open(path, 'wx+')
    try {
      await writevFully(handle, [PACK_HEADER], 0)
    } catch (err) {
      await handle.close()
      await fs.rm(path, { force: true })
      throw err
    }
    this.created = true
    return { id, handle, size: PACK_HEADER.byteLength }
  }

  /**
   * Starts an fdatasync in the background every `writebackBytes`, without
   * waiting for it: the disk then writes while we hash, instead of all at the
   * commit (the kernel would start only at 10% of RAM dirty). Errors are left
   * to the commit's own fsync.
   */
  private startWriteback (pack: OpenPack, bytes: number): void {
    this.unsynced += bytes
    if (this.writebackBytes <= 0 || this.unsynced < this.writebackBytes || this.writeback !== undefined) return
    this.unsynced = 0
    this.writeback = pack.handle.datasync().catch(() => {}).finally(() => { this.writeback = undefined })
  }

  private markDirty (pack: OpenPack): void {
    const dirty = this.dirty.get(pack.id)
    if (dirty !== undefined) dirty.size = pack.size
    else this.dirty.set(pack.id, { id: pack.id, size: pack.size, handle: pack.handle, sealed: this.active !== pack })
  }
}

function describe (job: Job, root: string): string {
  return `writing block ${job.cid.toString()} (${job.block.bytes.byteLength} bytes) to ${root}`
}

/** Positional writev that finishes short writes. */
async function writevFully (handle: FileHandle, iovecs: Uint8Array[], position: number): Promise<void> {
  let rest = iovecs
  let at = position
  for (;;) {
    const { bytesWritten } = await handle.writev(rest, at)
    at += bytesWritten
    let skip = bytesWritten
    while (rest.length > 0 && skip >= (rest[0] as Uint8Array).byteLength) {
      skip -= (rest[0] as Uint8Array).byteLength
      rest = rest.slice(1)
    }
    if (rest.length === 0) return
    if (bytesWritten === 0) throw Object.assign(new Error('write made no progress'), { code: 'EIO' })
    rest = [(rest[0] as Uint8Array).subarray(skip), ...rest.slice(1)]
  }
}
