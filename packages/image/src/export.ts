import { link, lstat, open, rename, unlink, type FileHandle } from 'node:fs/promises'
import { dirname } from 'node:path'
import { blockLength, formatVersionRef, fsyncDir, isCacheCloudError, tempPathBeside, type AbortOptions, type ImageManifest, type ProgressOptions } from '@cachecloud/core'
import type { Blockstore } from '@cachecloud/blockstore'
import { pipelineDepth } from './blocks.js'
import { FileExistsError, ImageFileError, VersionIncompleteError } from './errors.js'
import { throttledProgress } from './progress.js'

export interface ExportInit extends ProgressOptions<'export:block'>, AbortOptions {
  manifest: ImageManifest
  blockstore: Blockstore
  /** Target file. */
  file: string
  /** Replace an existing target. Default: false (FileExistsError). */
  overwrite?: boolean
  /** Blocks read ahead and written in parallel. Default: bounded by DEFAULT_PIPELINE_BYTES. */
  concurrency?: number
}

export interface ExportResult {
  file: string
  size: number
  blocks: number
  holes: number
  /** Bytes of data written (holes excluded). */
  bytesWritten: number
  durationMs: number
}

/**
 * Writes a version to a file, bit-identical to the imported image and sparse:
 * the file is truncated to its size and only data blocks are written, at their
 * offsets. Blocks are read (and verified) by the block store with bounded
 * read-ahead. The file appears under its name only once complete and fsynced.
 */
export async function exportImage (init: ExportInit): Promise<ExportResult> {
  const started = performance.now()
  const { manifest, file, signal } = init
  const ref = formatVersionRef(manifest)
  if (init.overwrite !== true && await exists(file)) {
    throw new FileExistsError(`cannot export ${ref}: ${file} already exists (use overwrite to replace it)`)
  }
  const tmp = tempPathBeside(file)
  let handle: FileHandle
  try {
    handle = await open(tmp, 'wx', 0o644)
  } catch (err) {
    throw new ImageFileError(`cannot write ${file}: ${(err as Error).message}`, { cause: err })
  }
  try {
    let holes = 0
    let bytesWritten = 0
    try {
      await handle.truncate(manifest.size)
      const result = await writeBlocks(handle, init)
      holes = result.holes
      bytesWritten = result.bytesWritten
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (init.overwrite === true) {
      await rename(tmp, file)
    } else {
      // link() refuses an existing name: a target created meanwhile is never clobbered.
      try {
        await link(tmp, file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new FileExistsError(`cannot export ${ref}: ${file} already exists (use overwrite to replace it)`)
        throw err
      }
      await unlink(tmp)
    }
    await fsyncDir(dirname(file))
    return { file, size: manifest.size, blocks: manifest.blocks.length, holes, bytesWritten, durationMs: performance.now() - started }
  } catch (err) {
    await unlink(tmp).catch(() => {})
    signal?.throwIfAborted()
    if (isCacheCloudError(err)) throw err
    throw new ImageFileError(`cannot export ${ref} to ${file}: ${(err as Error).message}`, { cause: err })
  }
}

async function writeBlocks (handle: FileHandle, init: ExportInit): Promise<{ holes: number, bytesWritten: number }> {
  const { manifest, blockstore, signal } = init
  const ref = formatVersionRef(manifest)
  const progress = throttledProgress('export:block', manifest.size, init.onProgress)
  let done = 0
  let holes = 0
  let bytesWritten = 0
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
      } else {
        let bytes: Uint8Array
        try {
          bytes = await blockstore.get(cid, { signal })
        } catch (err) {
          signal?.throwIfAborted()
          const code = (err as { code?: unknown }).code
          const why = code === 'ERR_BLOCK_NOT_FOUND' ? 'is missing from the block store' : `cannot be read: ${(err as Error).message}`
          throw new VersionIncompleteError(`${ref} is incomplete: block ${index} (${cid.toString()}) ${why}`, { cause: err })
        }
        if (bytes.byteLength !== length) {
          throw new VersionIncompleteError(`${ref} is damaged: block ${index} (${cid.toString()}) is ${bytes.byteLength} bytes, the manifest expects ${length}`)
        }
        let written = 0
        while (written < length) {
          const r = await handle.write(bytes, written, length - written, index * manifest.blockSize + written)
          written += r.bytesWritten
        }
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
  return { holes, bytesWritten }
}

async function exists (path: string): Promise<boolean> {
  try {
    await lstat(path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false
    throw err
  }
}
