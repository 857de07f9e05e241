import type { CID } from 'multiformats/cid'
import { formatVersionRef, assertValidLabel, type AbortOptions, type ProgressOptions } from '@cachecloud/core'
import { blockLength, IMAGE_MANIFEST_FORMAT, type ImageManifest } from '@cachecloud/manifest'
import { MAX_MANIFEST_BYTES, signManifest, type PublisherKey } from '@cachecloud/manifest'
import { MAX_BLOCK_BYTES, type Blockstore } from '@cachecloud/blockstore'
import { assertValidBlockSize, isZero, pipelineDepth } from './blocks.js'
import type { Catalog } from './catalog.js'
import { DEFAULT_BLOCK_SIZE, MAX_PIPELINE_BLOCKS } from './constants.js'
import { isHoleRange, type DataRange } from './data-ranges.js'
import type { DiskFormat } from './disk-format.js'
import { ImageFileError, InvalidBlockSizeError, VersionExistsError } from './errors.js'
import { openImageSource, type ImageSource } from './image-source.js'
import { throttledProgress } from './progress.js'

export interface ImportInit extends ProgressOptions<'import:block'>, AbortOptions {
  /** Disk image to import: raw, or a format of DISK_FORMATS (converted on the fly through qemu-nbd and nbdcopy). */
  file: string
  /** The file's format; default: detected from its first bytes (see detectDiskFormat). */
  format?: DiskFormat
  name: string
  version: string
  blockstore: Blockstore
  catalog: Catalog
  /** Signs the manifest. */
  key: PublisherKey
  /** Power of two from 4 KiB to 16 MiB. Default: DEFAULT_BLOCK_SIZE. */
  blockSize?: number
  /** Manifest CID this version derives from; `null` for none. Default: the newest complete version of `name`. */
  parent?: CID | null
  /** Publication time. Default: now. */
  createdAt?: Date
  /** Blocks read ahead and stored in parallel. Default: bounded by DEFAULT_PIPELINE_BYTES. */
  concurrency?: number
  /** zstd level the blocks are kept (and later sent) at; default: the block store's. Higher levels cost the import time once and every WAN link less. */
  compressionLevel?: number
}

export interface ImportStats {
  /** Image length in bytes. */
  size: number
  /** Blocks in the manifest, holes included. */
  blocks: number
  /** All-zero blocks, recorded as null and not stored. */
  holes: number
  /** Blocks written to the store by this import. */
  newBlocks: number
  newBytes: number
  /** Non-hole blocks already held (in the store, or earlier in this image). */
  dedupedBlocks: number
  /** Bytes read from the file: its allocated bytes where the file system tells them (sparse files), else its size. */
  bytesRead: number
  durationMs: number
}

export interface ImportResult {
  /** Manifest CID: the version's identity. */
  cid: CID
  manifest: ImageManifest
  stats: ImportStats
}

/** dag-cbor bytes of one block entry at most (tag 42, byte-string header, 0x00, 36-byte CID). */
const MAX_ENTRY_BYTES = 41

/**
 * Imports a raw image into fixed-size blocks, in constant memory: a bounded
 * pool of reusable read buffers, a bounded number of puts in flight. The
 * manifest is signed and recorded as complete only after the block store's
 * commit point, so the catalog never references a half-written block.
 */
export async function importImage (init: ImportInit): Promise<ImportResult> {
  const started = performance.now()
  const { blockstore, catalog, signal } = init
  const blockSize = init.blockSize ?? DEFAULT_BLOCK_SIZE
  assertValidBlockSize(blockSize)
  assertValidLabel('image name', init.name)
  assertValidLabel('version', init.version)
  const ref = formatVersionRef(init)
  const existing = await catalog.find(init)
  if (existing !== undefined) {
    throw new VersionExistsError(`${ref} already exists (manifest ${existing.cid.toString()}); choose another version label`)
  }
  const parent = init.parent !== undefined ? init.parent : (await catalog.latest(init.name))?.cid ?? null

  const source = await openImageSource(init.file, init.format, signal)
  try {
    const size = source.size
    if (size === 0) throw new ImageFileError(`cannot import ${init.file}: the file is empty`)
    const count = Math.ceil(size / blockSize)
    // The manifest is itself a block of the store, and must stay decodable by peers.
    const manifestLimit = Math.min(MAX_MANIFEST_BYTES, MAX_BLOCK_BYTES) - 1024
    if (count * MAX_ENTRY_BYTES > manifestLimit) {
      throw new InvalidBlockSizeError(`block size ${blockSize} is too small for ${init.file} (${size} bytes): its manifest could exceed ${manifestLimit} bytes; use a larger block size`)
    }
    const { blocks, stats } = await storeBlocks(source, init, { size, blockSize, ranges: source.ranges }, count)
    await source.finish()
    signal?.throwIfAborted()
    await blockstore.sync()

    const manifest = signManifest({
      format: IMAGE_MANIFEST_FORMAT,
      name: init.name,
      version: init.version,
      parent,
      size,
      blockSize,
      blocks,
      createdAt: (init.createdAt ?? new Date()).toISOString(),
      publisher: init.key.publicKey
    }, init.key)
    const entry = await catalog.add(manifest, 'complete')
    return { cid: entry.cid, manifest, stats: { ...stats, size, blocks: count, durationMs: performance.now() - started } }
  } finally {
    await source.close()
  }
}

interface Chunk {
  buffer: Buffer
  /** Users of this buffer: the loop filling and splitting it (one), plus each put still reading from it. */
  pending: number
}

type BlockStats = Pick<ImportStats, 'holes' | 'newBlocks' | 'newBytes' | 'dedupedBlocks' | 'bytesRead'>

/**
 * Reads the file in chunks of whole blocks (at least 1 MiB, so small blocks do
 * not cost a syscall each) into a fixed pool of buffers; a buffer returns to
 * the pool when every put reading from it has settled.
 */
async function storeBlocks (
  source: ImageSource,
  init: ImportInit,
  meta: { size: number, blockSize: number, ranges: DataRange[] | undefined },
  count: number
): Promise<{ blocks: Array<CID | null>, stats: BlockStats }> {
  const { blockstore, signal } = init
  const { size, blockSize, ranges } = meta
  const blocksPerChunk = Math.max(1, Math.floor((1024 * 1024) / blockSize))
  const chunkBytes = blocksPerChunk * blockSize
  const maxPuts = pipelineDepth(blockSize, init.concurrency)
  const poolSize = Math.max(2, Math.min(MAX_PIPELINE_BLOCKS, Math.ceil(maxPuts / blocksPerChunk) + 1))
  const free: Chunk[] = Array.from({ length: poolSize }, () => ({ buffer: Buffer.allocUnsafe(chunkBytes), pending: 0 }))
  const blocks: Array<CID | null> = new Array(count).fill(null)
  const stats: BlockStats = { holes: 0, newBlocks: 0, newBytes: 0, dedupedBlocks: 0, bytesRead: 0 }
  const progress = throttledProgress('import:block', size, init.onProgress)

  let puts = 0
  let failure: unknown
  let wake: (() => void) | undefined
  const settled = (): void => { const w = wake; wake = undefined; w?.() }
  const waitForSettle = async (): Promise<void> => { await new Promise<void>((resolve) => { wake = resolve }) }

  try {
    for (let first = 0; first < count; first += blocksPerChunk) {
      const position = first * blockSize
      const length = Math.min(chunkBytes, size - position)
      if (ranges !== undefined && isHoleRange(ranges, position, position + length)) {
        // unallocated: zeros, not read
        stats.holes += Math.min(count, first + blocksPerChunk) - first
        progress(position + length)
        continue
      }
      while (free.length === 0 && failure === undefined) await waitForSettle()
      if (failure !== undefined) throw failure
      signal?.throwIfAborted()
      const chunk = free.pop() as Chunk
      // Held by this loop until every block of it is handed out: a put settling meanwhile must not return it to the pool.
      chunk.pending = 1
      const release = (): void => { if (--chunk.pending === 0) free.push(chunk) }
      await source.read(chunk.buffer, length, position)
      stats.bytesRead += length

      const last = Math.min(count, first + blocksPerChunk)
      for (let index = first; index < last; index++) {
        const offset = (index - first) * blockSize
        const bytes = chunk.buffer.subarray(offset, offset + blockLength(meta, index))
        if (isZero(bytes)) {
          stats.holes++
          continue
        }
        while (puts >= maxPuts && failure === undefined) await waitForSettle()
        if (failure !== undefined) break
        puts++
        chunk.pending++
        blockstore.putBytes(
          bytes,
          { signal, ...(init.compressionLevel !== undefined ? { compressionLevel: init.compressionLevel } : {}) }
        ).then(({ cid, written }) => {
          blocks[index] = cid
          // The store reports `written` once per distinct block, even for concurrent puts of the same bytes.
          if (written) {
            stats.newBlocks++
            stats.newBytes += bytes.byteLength
          } else {
            stats.dedupedBlocks++
          }
        }, (err: unknown) => {
          failure ??= err
        }).finally(() => {
          puts--
          release()
          settled()
        })
      }
      release()
      progress(position + length)
    }
    while (puts > 0) await waitForSettle()
    if (failure !== undefined) throw failure
    return { blocks, stats }
  } finally {
    while (puts > 0) await waitForSettle()
  }
}
