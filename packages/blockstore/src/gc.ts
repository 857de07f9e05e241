/**
 * Garbage collection: drop the index entries of dead blocks, then reclaim
 * space pack by pack. A pack with no live block is deleted; a pack whose live
 * share fell below the threshold is repacked: its live blocks are read,
 * verified and appended to the active pack, the new locations committed, and
 * only then is the old pack deleted. So a crash at any point leaves every
 * live block reachable, and the disk space needed to make progress is at most
 * one pack's live bytes.
 */
import fs from 'node:fs/promises'
import { join } from 'node:path'
import { bytesMatchCid } from '@cachecloud/core'
import type { CID } from 'multiformats/cid'
import { cidOfKey } from './cid-key.js'
import { fsyncPath } from './fs-util.js'
import type { Location } from './pack-appender.js'
import { PACK_HEADER, packFileName } from './pack-format.js'
import type { OpenStore } from './pack-blockstore.js'
import { readRecord } from './record-read.js'
import type { GcResult } from './index.js'

export interface GcInit {
  isLive: (cid: CID) => boolean
  signal?: AbortSignal
  repackThreshold: number
  packsDir: string
  /** The store's commit point; `compact` also rewrites a long index log. */
  commit: (compact: boolean) => Promise<void>
}

export async function collectGarbage (open: OpenStore, init: GcInit): Promise<GcResult> {
  const { index } = open
  const result: GcResult = { removed: 0, freedBytes: 0, kept: 0 }
  let n = 0
  for (const [key, entry] of index.entries) {
    if (++n % 4096 === 0) init.signal?.throwIfAborted()
    if (init.isLive(cidOfKey(key))) {
      result.kept++
    } else {
      index.remove(key)
      result.removed++
      result.freedBytes += entry.rawLength
    }
  }
  await init.commit(false)
  await reclaim(open, init)
  await init.commit(true)
  return result
}

/** Deletes dead packs and repacks sparse ones, emptiest first. */
async function reclaim (open: OpenStore, init: GcInit): Promise<void> {
  const { index, appender } = open
  const sparse = (id: number): boolean => {
    const info = index.packs.get(id)
    return info !== undefined && info.liveBytes < init.repackThreshold * Math.max(1, info.size - PACK_HEADER.byteLength)
  }
  const candidates = [...index.packs.keys()].filter(sparse)
  if (candidates.length === 0) return
  // the pack being appended to is sealed first, so that it too can be deleted or repacked (a store filled by a failed import is one active pack)
  if (appender.activeId !== undefined && candidates.includes(appender.activeId)) await appender.seal()
  const byPack = new Map<number, Array<[string, Location]>>(candidates.map(id => [id, []]))
  for (const [key, entry] of index.entries) byPack.get(entry.pack)?.push([key, entry])
  candidates.sort((a, b) => (index.packs.get(a)?.liveBytes ?? 0) - (index.packs.get(b)?.liveBytes ?? 0))

  for (const id of candidates) {
    init.signal?.throwIfAborted()
    if (id === appender.activeId) continue
    for (const [key, entry] of byPack.get(id) ?? []) await move(open, key, entry)
    await init.commit(false)
    // Entries committed elsewhere: the pack holds nothing live (unless a block arrived since, then keep it).
    if ((index.packs.get(id)?.blocks ?? 0) > 0 || appender.isDirty(id)) continue
    open.readers.forget(id)
    await fs.rm(join(init.packsDir, packFileName(id)), { force: true })
    index.packs.delete(id)
    await fsyncPath(init.packsDir)
  }
}

/** Copies one live block's record to the active pack as it is stored (checked by crc32, format-2 records by hash); a corrupt copy is dropped instead. */
async function move (open: OpenStore, key: string, entry: Location): Promise<void> {
  const { index, readers, appender } = open
  if (index.get(key) !== entry) return
  const cid = cidOfKey(key)
  const block = await readRecord(readers, key, entry).catch(() => undefined)
  if (block === undefined || (entry.legacy && !bytesMatchCid(cid, block.bytes))) {
    if (index.get(key) === entry) index.remove(key)
    return
  }
  await appender.append(cid, block, location => { if (index.get(key) === entry) index.set(key, location) })
}
