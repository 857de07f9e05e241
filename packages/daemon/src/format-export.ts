import { lstat, mkdtemp, rename, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Blockstore } from '@cachecloud/blockstore'
import { blockLength, fsyncDir, tempPathBeside, type ImageManifest } from '@cachecloud/core'
import { convertFromNbd, ExportTargetError, FileExistsError, type DiskFormat } from '@cachecloud/image'
import { createNbdServer, type BlockDevice } from '@cachecloud/nbd'

/** Name of the one export of the private NBD server a conversion reads. */
const EXPORT_NAME = 'image'

/** A complete version as a read-only block device straight from the block store (holes read as zeros). */
class ManifestDevice implements BlockDevice {
  readonly size: number
  private last: { index: number, bytes: Uint8Array } | undefined

  constructor (private readonly manifest: ImageManifest, private readonly blockstore: Blockstore, private readonly onRead: (bytes: number) => void) {
    this.size = manifest.size
  }

  private async block (index: number): Promise<Uint8Array> {
    if (this.last?.index === index) return this.last.bytes
    const cid = this.manifest.blocks[index]
    const bytes = cid === null ? new Uint8Array(blockLength(this.manifest, index)) : await this.blockstore.get(cid)
    this.last = { index, bytes }
    return bytes
  }

  async read (offset: number, length: number): Promise<Uint8Array> {
    const out = Buffer.alloc(length)
    const { blockSize } = this.manifest
    let done = 0
    while (done < length) {
      const at = offset + done
      const index = Math.floor(at / blockSize)
      const within = at - index * blockSize
      const bytes = await this.block(index)
      const take = Math.min(bytes.byteLength - within, length - done)
      out.set(bytes.subarray(within, within + take), done)
      done += take
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
  const server = createNbdServer({ exports: [{ name: EXPORT_NAME, device: new ManifestDevice(init.manifest, init.blockstore, init.onRead) }], socketPath, maxClients: 1 })
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
