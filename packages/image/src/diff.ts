import type { CID } from 'multiformats/cid'
import { type AbortOptions } from '@cachecloud/core'
import { blockLength, type ImageManifest } from '@cachecloud/manifest'
import { DEFAULT_HAS_CONCURRENCY } from './constants.js'

/** A block to fetch: its CID and length in bytes. */
export interface BlockRef {
  cid: CID
  length: number
}

export interface ManifestDiff {
  /** Indexes held by both whose entry differs (another CID, or a hole on one side). */
  changed: number[]
  /** Indexes of `to` beyond the end of `from`. */
  added: number[]
  /** Indexes of `from` beyond the end of `to`. */
  removed: number[]
  /** Distinct non-hole blocks of `to` absent from `from`, in block order: what a holder of `from` must fetch. */
  fetch: BlockRef[]
  /** Total length of `fetch`. */
  fetchBytes: number
}

export interface MissingBlocks {
  /** Distinct non-hole blocks not held, in block order. */
  blocks: BlockRef[]
  bytes: number
}

/**
 * Set key of a block: its multihash bytes as a latin1 string (compact, and two
 * CIDs of the same bytes under different codecs count as one).
 */
function keyOf (cid: CID): string {
  return Buffer.from(cid.multihash.bytes.buffer, cid.multihash.bytes.byteOffset, cid.multihash.bytes.byteLength).toString('latin1')
}

function sameEntry (a: CID | null, b: CID | null): boolean {
  if (a === null || b === null) return a === b
  return a.equals(b)
}

/** Distinct non-hole blocks of a manifest in block order, skipping those whose key is in `exclude`. */
function distinctBlocks (manifest: ImageManifest, exclude?: Set<string>): BlockRef[] {
  const seen = new Set<string>()
  const out: BlockRef[] = []
  manifest.blocks.forEach((cid, index) => {
    if (cid === null) return
    const key = keyOf(cid)
    if (seen.has(key) || exclude?.has(key) === true) return
    seen.add(key)
    out.push({ cid, length: blockLength(manifest, index) })
  })
  return out
}

/**
 * Block-level difference between two versions. Indexes are compared position
 * by position (meaningful when both use the same block size); `fetch` is by
 * content and correct regardless.
 */
export function diffManifests (from: ImageManifest, to: ImageManifest): ManifestDiff {
  const changed: number[] = []
  const added: number[] = []
  const removed: number[] = []
  const common = Math.min(from.blocks.length, to.blocks.length)
  for (let i = 0; i < common; i++) {
    if (!sameEntry(from.blocks[i] ?? null, to.blocks[i] ?? null)) changed.push(i)
  }
  for (let i = common; i < to.blocks.length; i++) added.push(i)
  for (let i = common; i < from.blocks.length; i++) removed.push(i)

  const held = new Set<string>()
  for (const cid of from.blocks) if (cid !== null) held.add(keyOf(cid))
  const fetch = distinctBlocks(to, held)
  return { changed, added, removed, fetch, fetchBytes: sumLengths(fetch) }
}

/** The distinct non-hole blocks of `manifest` that `has` reports absent, in block order, with their total bytes. */
export async function missingBlocks (
  manifest: ImageManifest,
  has: (cid: CID) => Promise<boolean>,
  options: AbortOptions & { concurrency?: number } = {}
): Promise<MissingBlocks> {
  const candidates = distinctBlocks(manifest)
  const present = new Uint8Array(candidates.length)
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < candidates.length) {
      options.signal?.throwIfAborted()
      const i = next++
      present[i] = (await has(candidates[i].cid)) ? 1 : 0
    }
  }
  const workers = Math.max(1, Math.min(options.concurrency ?? DEFAULT_HAS_CONCURRENCY, candidates.length))
  await Promise.all(Array.from({ length: workers }, worker))
  const blocks = candidates.filter((_, i) => present[i] === 0)
  return { blocks, bytes: sumLengths(blocks) }
}

function sumLengths (blocks: BlockRef[]): number {
  let total = 0
  for (const b of blocks) total += b.length
  return total
}
