import type { CID } from 'multiformats/cid'
import { formatVersionRef, assertValidLabel, type AbortOptions, type ProgressOptions } from '@cachecloud/core'
import { blockLength, type ImageManifest } from '@cachecloud/manifest'
import { signManifest, type PublisherKey } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import { isZero, pipelineDepth } from './blocks.js'
import type { Catalog } from './catalog.js'
import { CommitSizeMismatchError, VersionExistsError } from './errors.js'
import { throttledProgress } from './progress.js'

/** What a commit reads the written blocks from: the base with writes on top (an overlay), as long as the base. */
export interface CommitSource {
  readonly size: number
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>
}

export interface CommitInit extends ProgressOptions<'commit:block'>, AbortOptions {
  /** The version the writes were made on: the new version's parent. */
  base: ImageManifest
  baseCid: CID
  source: CommitSource
  /** Indexes of the base's blocks that hold a write: only these are read, hashed and stored. */
  writtenBlocks: Iterable<number>
  name: string
  version: string
  blockstore: Blockstore
  catalog: Catalog
  key: PublisherKey
  /** Publication time. Default: now. */
  createdAt?: Date
}

export interface CommitStats {
  blocks: number
  /** Blocks that hold a write (read from the source). */
  writtenBlocks: number
  /** Written blocks that are all zeros: holes in the new version. */
  holes: number
  /** Written blocks whose bytes are the base's (or another block's) already: nothing stored. */
  dedupedBlocks: number
  newBlocks: number
  newBytes: number
  durationMs: number
}

export interface CommitResult {
  cid: CID
  manifest: ImageManifest
  stats: CommitStats
}

/**
 * Makes a new version from a base and the blocks written on top of it, without reading
 * the rest of the image: every other entry is the base's. Blocks go to the store first,
 * then its commit point, then the signed manifest and its ref: a crash at any point
 * leaves no version (unreferenced blocks, which gc frees) or a complete one.
 */
export async function commitVersion (init: CommitInit): Promise<CommitResult> {
  const started = performance.now()
  const { base, blockstore, catalog, signal } = init
  assertValidLabel('image name', init.name)
  assertValidLabel('version', init.version)
  const ref = formatVersionRef(init)
  const existing = await catalog.find(init)
  if (existing !== undefined) throw new VersionExistsError(`${ref} already exists (manifest ${existing.cid.toString()}); choose another version label`)
  if (init.source.size !== base.size) throw new CommitSizeMismatchError(`the writes cover ${init.source.size} bytes but ${base.name}@${base.version} has ${base.size}`)

  const indexes = [...new Set(init.writtenBlocks)].filter(i => Number.isInteger(i) && i >= 0 && i < base.blocks.length).sort((a, b) => a - b)
  const blocks: Array<CID | null> = [...base.blocks]
  const stats: CommitStats = { blocks: blocks.length, writtenBlocks: indexes.length, holes: 0, dedupedBlocks: 0, newBlocks: 0, newBytes: 0, durationMs: 0 }
  const total = indexes.reduce((n, i) => n + blockLength(base, i), 0)
  const progress = throttledProgress('commit:block', total, init.onProgress)
  let done = 0
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < indexes.length) {
      signal?.throwIfAborted()
      const index = indexes[next++]
      const length = blockLength(base, index)
      const bytes = Buffer.from(await init.source.read(index * base.blockSize, length, signal))
      if (isZero(bytes)) {
        blocks[index] = null
        stats.holes++
      } else {
        const { cid, written } = await blockstore.putBytes(bytes, { signal })
        blocks[index] = cid
        if (written) { stats.newBlocks++; stats.newBytes += length } else stats.dedupedBlocks++
      }
      done += length
      progress(done)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(indexes.length, pipelineDepth(base.blockSize))) }, worker))
  progress(total)
  signal?.throwIfAborted()
  await blockstore.sync()

  const manifest = signManifest({
    format: base.format,
    name: init.name,
    version: init.version,
    parent: init.baseCid,
    size: base.size,
    blockSize: base.blockSize,
    blocks,
    createdAt: (init.createdAt ?? new Date()).toISOString(),
    publisher: init.key.publicKey
  }, init.key)
  const entry = await catalog.add(manifest, 'complete')
  return { cid: entry.cid, manifest, stats: { ...stats, durationMs: performance.now() - started } }
}

/** Indexes of the blocks of `blockSize` that overlap a written chunk of `chunkBytes` (chunk indexes in any order). */
export function blocksOfChunks (chunks: Iterable<number>, chunkBytes: number, blockSize: number, size: number): number[] {
  const out = new Set<number>()
  for (const c of chunks) {
    const start = c * chunkBytes
    if (start >= size) continue
    const end = Math.min(size, start + chunkBytes) - 1
    for (let b = Math.floor(start / blockSize); b <= Math.floor(end / blockSize); b++) out.add(b)
  }
  return [...out].sort((a, b) => a - b)
}
