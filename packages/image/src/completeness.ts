/**
 * A version recorded complete whose blocks are no longer all held (a pack cut
 * short or deleted while the node was down; start-up recovery drops the
 * entries it cannot find) must not go on being reported and advertised as
 * complete: it goes back to `pulling`, so status shows it, peers are not
 * offered it as complete, and a pull fetches exactly the blocks it lacks.
 */
import { formatVersionRef, type AbortOptions } from '@cachecloud/core'
import type { Blockstore } from '@cachecloud/blockstore'
import type { Catalog } from './catalog.js'
import { missingBlocks } from './diff.js'

export interface LostVersion {
  ref: string
  /** Distinct blocks of the version the store no longer holds, and their bytes (-1: its manifest is gone too). */
  missingBlocks: number
  missingBytes: number
}

/** Checks every complete version against the store's index (no data is read) and marks those that lost blocks as pulling. */
export async function demoteIncompleteVersions (catalog: Catalog, blockstore: Blockstore, options: AbortOptions = {}): Promise<LostVersion[]> {
  const lost: LostVersion[] = []
  for (const entry of await catalog.list()) {
    if (entry.state !== 'complete') continue
    if (!await blockstore.has(entry.cid)) {
      // the manifest itself is gone: nothing of the version can be served until it is pulled again
      await catalog.markIncomplete(entry)
      lost.push({ ref: formatVersionRef(entry), missingBlocks: -1, missingBytes: -1 })
      continue
    }
    const missing = await missingBlocks(await catalog.manifest(entry), async cid => await blockstore.has(cid), options)
    if (missing.blocks.length === 0) continue
    await catalog.markIncomplete(entry)
    lost.push({ ref: formatVersionRef(entry), missingBlocks: missing.blocks.length, missingBytes: missing.bytes })
  }
  return lost
}
