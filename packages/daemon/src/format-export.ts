import { lstat, mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Blockstore } from '@cachecloud/blockstore'
import { fsyncDir, tempPathBeside } from '@cachecloud/core'
import { blockLength, type ImageManifest } from '@cachecloud/manifest'
import { convertFromNbd, ExportTargetError, FileExistsError, type DiskFormat } from '@cachecloud/image'
import { createNbdServer, type BlockDevice } from '@cachecloud/nbd'

/** Name of the one export of the private NBD server a conversion reads. */
const EXPORT_NAME = 'image'

/** Read-only zeros, grown to the longest hole read asked (NBD requests are bounded by MAX_REQUEST_BYTES). */
let zeros = new Uint8Array(0)

/** A complete version as a read-only block device straight from the block store (holes read as zeros). */
class ManifestDevice implements BlockDevice {
  readonly size: number

  constructor (private readonly manifest: ImageManifest, private readonly blockstore: Blockstore, private readonly onRead: (bytes: number) => void) {
    this.size = manifest.size
  }

  private async block (index: number): Promise<Uint8Array> {
    const cid = this.manifest.blocks[index]
    return cid === null ? new Uint8Array(blockLength(this.manifest, index)) : await this.blockstore.get(cid)
  }

  async read (offset: number, length: number): Promise<Uint8Array> {
    const { blockSize, blocks } = this.manifest
    const first = Math.floor(offset / blockSize)
    const last = Math.floor((offset + length - 1) / blockSize)
    if (blocks.slice(first, last + 1).every(cid => cid === null)) {
      // holes (most of a typical disk): one shared zero buffer, nothing read or allocated
      if (zeros.byteLength < length) zeros = new Uint8Array(length)
      this.onRead(length)
      return zeros.subarray(0, length)
    }
    const out = Buffer.allocUnsafe(length) // every byte is set below
    // the request's blocks are read from the store in parallel (qemu-img asks for a few MiB at a time)
    const parts = await Promise.all(Array.from({ length: last - first + 1 }, async (_, i) => await this.block(first + i)))
    for (let i = 0; i < parts.length; i++) {
      const start = (first + i) * blockSize
      const from = Math.max(offset, start)
      const to = Math.min(offset + length, start + parts[i].byteLength)
      out.set(parts[i].subarray(from - start, to - start), from - offset)
    }
    this.onRead(length)
    return out
  }
}

export interface ConvertedExportInit {
  manifest: ImageManifest
  blockstore: Blockstore
  format: Exclude<DiskFormat, 'raw'>
  file: string
  overwrite: boolean
  onRead: (bytes: number) => void
  signal?: AbortSignal
}

/**
 * Writes a complete version as qcow2, VMDK or VHDX: qemu-img reads it raw from a
 * private NBD server on a Unix socket in a fresh 0700 directory (no raw copy on
 * disk) and writes beside the target, which is renamed into place once complete.
 */
export async function exportConverted (init: ConvertedExportInit): Promise<void> {
  await checkTarget(init.file, init.overwrite)
  const dir = await mkdtemp(join(tmpdir(), 'cachepoint-convert-'))
  const socketPath = join(dir, 'nbd.sock')
  const server = createNbdServer({
    exports: [{ name: EXPORT_NAME, device: new ManifestDevice(init.manifest, init.blockstore, init.onRead) }],
    socketPath,
    maxClients: 1
  })
  const temp = tempPathBeside(init.file)
  try {
    await server.start()
    await convertFromNbd({ socketPath, exportName: EXPORT_NAME, format: init.format, file: temp, signal: init.signal })
    await checkTarget(init.file, init.overwrite)
    await rename(temp, init.file)
    await fsyncDir(dirname(init.file))
  } finally {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
    await rm(temp, { force: true })
  }
}

async function checkTarget (file: string, overwrite: boolean): Promise<void> {
  const stats = await lstat(file).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err })
  if (stats === undefined) return
  if (!stats.isFile()) throw new ExportTargetError(`cannot write ${file}: a converted image is written to a new or regular file, and this is not one`)
  if (!overwrite) throw new FileExistsError(`${file} exists; choose a new name or pass --force to replace it`)
}
