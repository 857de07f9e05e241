import { constants, type Stats } from 'node:fs'
import { link, lstat, open, readFile, unlink, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { formatVersionRef, fsyncDir, isCacheCloudError, tempPathBeside, type AbortOptions, type ProgressOptions } from '@cachecloud/core'
import { blockLength, type ImageManifest } from '@cachecloud/manifest'
import { BlockNotFoundError, type Blockstore } from '@cachecloud/blockstore'
import { pipelineDepth } from './blocks.js'
import { ExportTargetError, FileExistsError, ImageFileError, VersionIncompleteError } from './errors.js'
import { throttledProgress } from './progress.js'

export interface ExportInit extends ProgressOptions<'export:block'>, AbortOptions {
  manifest: ImageManifest
  blockstore: Blockstore
  /**
   * Target: a new regular file, or (with `overwrite`) an existing regular file or block device,
   * written in place. Symbolic links, character devices, FIFOs, sockets and directories are refused
   * (ExportTargetError): a caller that means to write through a link resolves it first.
   */
  file: string
  /** Write over an existing regular file or block device. Default: false (FileExistsError). */
  overwrite?: boolean
  /** Blocks read ahead and written in parallel. Default: bounded by DEFAULT_PIPELINE_BYTES. */
  concurrency?: number
}

export interface ExportResult {
  file: string
  /** What was written: a new file (renamed into place once complete), an existing file or a block device (in place). */
  target: 'new-file' | 'file' | 'block-device'
  size: number
  blocks: number
  holes: number
  /** Bytes of data written (holes excluded). */
  bytesWritten: number
  /** Zeros written over holes of a block device that did not read as zeros already. */
  zeroedBytes: number
  durationMs: number
}

type Target = { kind: 'new-file' } | { kind: 'file' | 'block-device', stats: Stats }

/**
 * Writes a version to a file or block device, bit-identical to the imported image.
 * A new file is written beside its name, fsynced, then linked into place (never half
 * there). An existing regular file is written in place (its inode, links and
 * permissions stay), truncated to the image size and sparse: holes are punched by
 * truncating it first. A block device is written in place up to the image size; a
 * hole is zeroed only where the device does not read as zeros. Blocks are read (and
 * verified) by the block store with bounded read-ahead; everything is fsynced.
 */
export async function exportImage (init: ExportInit): Promise<ExportResult> {
  const started = performance.now()
  const target = await inspectTarget(init.file, formatVersionRef(init.manifest), init.overwrite === true)
  const written = target.kind === 'new-file' ? await exportToNewFile(init) : await exportInPlace(init, target.kind, target.stats)
  const { manifest, file } = init
  return { file, target: target.kind, size: manifest.size, blocks: manifest.blocks.length, ...written, durationMs: performance.now() - started }
}

function describeType (stats: Stats): string {
  if (stats.isCharacterDevice()) return 'a character device'
  if (stats.isFIFO()) return 'a FIFO'
  if (stats.isSocket()) return 'a socket'
  if (stats.isDirectory()) return 'a directory'
  return 'a special file'
}

/** What the target is, refusing what an image cannot be written to before anything is opened (opening a FIFO blocks). */
async function inspectTarget (file: string, ref: string, overwrite: boolean): Promise<Target> {
  let stats: Stats
  try {
    stats = await lstat(file)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'new-file' }
    throw new ImageFileError(`cannot export ${ref} to ${file}: ${(err as Error).message}`, { cause: err })
  }
  if (!overwrite) throw new FileExistsError(`cannot export ${ref}: ${file} already exists (use overwrite to replace it)`)
  if (stats.isSymbolicLink()) {
    throw new ExportTargetError(`cannot export ${ref} to ${file}: it is a symbolic link, neither replaced nor followed unless asked (--follow-symlinks)`)
  }
  if (stats.isFile()) return { kind: 'file', stats }
  if (stats.isBlockDevice()) return { kind: 'block-device', stats }
  throw new ExportTargetError(`cannot export ${ref} to ${file}: it is ${describeType(stats)}; an image is written only to a regular file or a block device`)
}

interface Written { holes: number, bytesWritten: number, zeroedBytes: number }

async function exportToNewFile (init: ExportInit): Promise<Written> {
  const { manifest, file, signal } = init
  const ref = formatVersionRef(manifest)
  const tmp = tempPathBeside(file)
  let handle: FileHandle
  try {
    handle = await open(tmp, 'wx', 0o644)
  } catch (err) {
    throw new ImageFileError(`cannot write ${file}: ${(err as Error).message}`, { cause: err })
  }
  try {
    let written: Written
    try {
      await handle.truncate(manifest.size)
      written = await writeBlocks(handle, init)
      await handle.sync()
    } finally {
      await handle.close()
    }
    // link() refuses an existing name: whatever appeared there meanwhile (a file, a device, a link) is never clobbered
    try {
      await link(tmp, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(`cannot export ${ref}: ${file} appeared while exporting; it is left as it is`)
      throw err
    }
    await unlink(tmp)
    await fsyncDir(dirname(file))
    return written
  } catch (err) {
    await unlink(tmp).catch(() => {})
    signal?.throwIfAborted()
    if (isCacheCloudError(err)) throw err
    throw new ImageFileError(`cannot export ${ref} to ${file}: ${(err as Error).message}`, { cause: err })
  }
}

/** Bytes of a block device, from sysfs (Linux); undefined when unknown. */
async function blockDeviceBytes (stats: Stats): Promise<number | undefined> {
  const major = (stats.rdev >>> 8) & 0xfff
  const minor = (stats.rdev & 0xff) | ((stats.rdev >>> 12) & 0xfff00)
  const sectors = Number((await readFile(`/sys/dev/block/${major}:${minor}/size`, 'utf8').catch(() => '')).trim())
  return Number.isSafeInteger(sectors) && sectors > 0 ? sectors * 512 : undefined
}

async function exportInPlace (init: ExportInit, kind: 'file' | 'block-device', before: Stats): Promise<Written> {
  const { manifest, file, signal } = init
  const ref = formatVersionRef(manifest)
  let handle: FileHandle
  try {
    // O_NOFOLLOW: a symlink swapped in after the check is refused, not followed
    handle = await open(file, constants.O_RDWR | constants.O_NOFOLLOW)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new ExportTargetError(`cannot export ${ref} to ${file}: it became a symbolic link`)
    throw new ImageFileError(`cannot write ${file}: ${(err as Error).message}`, { cause: err })
  }
  try {
    const now = await handle.stat()
    if (now.ino !== before.ino || now.dev !== before.dev || now.rdev !== before.rdev) {
      throw new ExportTargetError(`cannot export ${ref} to ${file}: it was replaced while being opened`)
    }
    let written: Written
    if (kind === 'file') {
      // truncating to 0 first punches every hole: only data blocks are then written
      await handle.truncate(0)
      await handle.truncate(manifest.size)
      written = await writeBlocks(handle, init)
    } else {
      const bytes = await blockDeviceBytes(now)
      if (bytes !== undefined && bytes < manifest.size) {
        throw new ExportTargetError(`cannot export ${ref} to ${file}: the device holds ${bytes} bytes, the image is ${manifest.size}`)
      }
      written = await writeBlocks(handle, init, zeroUnlessZero(handle, manifest.blockSize))
    }
    await handle.sync()
    return written
  } catch (err) {
    signal?.throwIfAborted()
    if (isCacheCloudError(err)) throw err
    throw new ImageFileError(`cannot export ${ref} to ${file}: ${(err as Error).message}`, { cause: err })
  } finally {
    await handle.close()
  }
}

/** A hole on a device: read it, write zeros only if it does not read as zeros (thin devices stay thin). Returns bytes zeroed. */
function zeroUnlessZero (handle: FileHandle, blockSize: number): (offset: number, length: number) => Promise<number> {
  const zeros = Buffer.alloc(blockSize)
  return async (offset, length) => {
    const current = Buffer.allocUnsafe(length)
    let read = 0
    while (read < length) {
      const r = await handle.read(current, read, length - read, offset + read)
      if (r.bytesRead === 0) break
      read += r.bytesRead
    }
    if (read === length && current.equals(zeros.subarray(0, length))) return 0
    await writeAll(handle, zeros, length, offset)
    return length
  }
}

async function writeAll (handle: FileHandle, bytes: Uint8Array, length: number, position: number): Promise<void> {
  let written = 0
  while (written < length) {
    const r = await handle.write(bytes, written, length - written, position + written)
    written += r.bytesWritten
  }
}

async function writeBlocks (handle: FileHandle, init: ExportInit, onHole?: (offset: number, length: number) => Promise<number>): Promise<Written> {
  const { manifest, blockstore, signal } = init
  const ref = formatVersionRef(manifest)
  const progress = throttledProgress('export:block', manifest.size, init.onProgress)
  let done = 0
  let holes = 0
  let bytesWritten = 0
  let zeroedBytes = 0
  let next = 0
  let stopped = false

  const worker = async (): Promise<void> => {
    try {
      await work()
    } catch (err) {
      stopped = true
      throw err
    }
  }
  const work = async (): Promise<void> => {
    while (next < manifest.blocks.length && !stopped) {
      signal?.throwIfAborted()
      const index = next++
      const cid = manifest.blocks[index]
      const length = blockLength(manifest, index)
      if (cid === null) {
        holes++
        if (onHole !== undefined) zeroedBytes += await onHole(index * manifest.blockSize, length)
      } else {
        let bytes: Uint8Array
        try {
          bytes = await blockstore.get(cid, { signal })
        } catch (err) {
          signal?.throwIfAborted()
          const why = err instanceof BlockNotFoundError ? 'is missing from the block store' : `cannot be read: ${(err as Error).message}`
          throw new VersionIncompleteError(`${ref} is incomplete: block ${index} (${cid.toString()}) ${why}`, { cause: err })
        }
        if (bytes.byteLength !== length) {
          throw new VersionIncompleteError(`${ref} is damaged: block ${index} (${cid.toString()}) is ${bytes.byteLength} bytes, the manifest expects ${length}`)
        }
        await writeAll(handle, bytes, length, index * manifest.blockSize)
        bytesWritten += length
      }
      done += length
      progress(done)
    }
  }

  const workers = Math.min(pipelineDepth(manifest.blockSize, init.concurrency), Math.max(1, manifest.blocks.length))
  const results = await Promise.allSettled(Array.from({ length: workers }, worker))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) throw failed.reason
  progress(manifest.size)
  return { holes, bytesWritten, zeroedBytes }
}
