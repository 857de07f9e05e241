import { open, type FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { dataRanges, type DataRange } from './data-ranges.js'
import { detectDiskFormat, type DiskFormat } from './disk-format.js'
import { CorruptImageFileError, ImageFileError } from './errors.js'
import { diskInfo, rawStream, type ToolRun } from './qemu-img.js'

/** The raw bytes of a disk to import, read in increasing positions. */
export interface ImageSource {
  /** Disk length in bytes. */
  readonly size: number
  /** Allocated ranges where the file system tells them (a sparse raw file); else undefined: read everything. */
  readonly ranges: DataRange[] | undefined
  /** What the file was read as. */
  readonly format: DiskFormat
  /** Fills `length` bytes of `buffer` from `position`. */
  read(buffer: Buffer, length: number, position: number): Promise<void>
  /** Waits for a converting tool's clean exit (a failure it reports late is an error). */
  finish(): Promise<void>
  close(): Promise<void>
}

/** Opens `file` as `format` (default: detected): a raw file directly, anything else as a raw stream through qemu-nbd and nbdcopy. */
export async function openImageSource (file: string, format?: DiskFormat, signal?: AbortSignal): Promise<ImageSource> {
  const chosen = format ?? await detectDiskFormat(file)
  if (chosen === 'raw') return await openRawFile(file)
  const { virtualSize } = await diskInfo(file, chosen)
  return new StreamSource(file, chosen, virtualSize, await rawStream(file, chosen, signal))
}

async function openRawFile (file: string): Promise<ImageSource> {
  let handle: FileHandle
  try {
    handle = await open(file, 'r')
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message
    throw new ImageFileError(`cannot read image ${file}: ${why}`, { cause: err })
  }
  const stat = await handle.stat()
  if (!stat.isFile()) {
    await handle.close()
    throw new ImageFileError(`cannot read image ${file}: not a regular file`)
  }
  const ranges = stat.size === 0 ? undefined : await dataRanges(file, stat.size, stat.blocks * 512)
  return {
    size: stat.size,
    ranges,
    format: 'raw',
    async read (buffer, length, position) {
      let done = 0
      while (done < length) {
        let bytesRead: number
        try {
          ({ bytesRead } = await handle.read(buffer, done, length - done, position + done))
        } catch (err) {
          throw new ImageFileError(`cannot read image ${file} at offset ${position + done}: ${(err as Error).message}`, { cause: err })
        }
        if (bytesRead === 0) throw new ImageFileError(`image ${file} shrank while being imported (end at offset ${position + done})`)
        done += bytesRead
      }
    },
    async finish () {},
    async close () { await handle.close() }
  }
}

/** A converting tool's stdout, read in order; a position behind or ahead of the stream is skipped forward (never back). */
class StreamSource implements ImageSource {
  readonly ranges = undefined
  private position = 0
  private left: Buffer | undefined
  private readonly chunks: AsyncIterator<Buffer>

  constructor (private readonly file: string, readonly format: DiskFormat, readonly size: number, private readonly run: ToolRun) {
    this.chunks = (run.child.stdout as Readable)[Symbol.asyncIterator]()
  }

  private async next (): Promise<Buffer> {
    if (this.left !== undefined && this.left.byteLength > 0) { const b = this.left; this.left = undefined; return b }
    const { value, done } = await this.chunks.next()
    if (done === true) {
      await this.run.done // the tool's own complaint, if it failed
      throw new CorruptImageFileError(`cannot read ${this.file} as ${this.format}: it ended at byte ${this.position} of ${this.size}`)
    }
    return value as Buffer
  }

  async read (buffer: Buffer, length: number, position: number): Promise<void> {
    if (position < this.position) throw new RangeError(`stream source read back from ${this.position} to ${position}`)
    while (this.position < position) {
      const chunk = await this.next()
      const skip = Math.min(chunk.byteLength, position - this.position)
      this.position += skip
      if (skip < chunk.byteLength) this.left = chunk.subarray(skip)
    }
    let done = 0
    while (done < length) {
      const chunk = await this.next()
      const take = Math.min(chunk.byteLength, length - done)
      chunk.copy(buffer, done, 0, take)
      done += take
      this.position += take
      if (take < chunk.byteLength) this.left = chunk.subarray(take)
    }
  }

  async finish (): Promise<void> {
    if (this.position < this.size) throw new RangeError(`stream source finished at ${this.position} of ${this.size}`)
    const { done } = await this.chunks.next()
    if (done !== true) throw new CorruptImageFileError(`cannot read ${this.file} as ${this.format}: it holds more than its virtual size of ${this.size} bytes`)
    await this.run.done
  }

  async close (): Promise<void> {
    if (this.run.child.exitCode === null && this.run.child.signalCode === null) this.run.child.kill('SIGTERM')
    await this.run.done.catch(() => {})
  }
}
