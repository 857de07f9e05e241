import type { Blockstore } from '@cachecloud/blockstore'
import { DAG_CBOR_CODEC, parseCid, type CID } from '@cachecloud/core'
import { dirLinks } from '@cachecloud/personal-format'
import type { AuditLog } from './audit.js'
import { heldSnapshots, type HoldsGuard } from './holds.js'
import type { SnapshotRow, VersionIndex } from './version-index.js'

export interface RetentionResult {
  /** Snapshots older than the cut-off that no active hold needs (removed when applied). */
  snapshots: SnapshotRow[]
  /** Snapshots older than the cut-off kept because active holds need them, with those holds' ids. */
  held: Array<{ snapshot: SnapshotRow, holds: string[] }>
  /** Blocks and bytes freed (0 in a dry run). */
  removedBlocks: number
  freedBytes: number
  applied: boolean
}

/** Every block a snapshot needs: its record, and its DAG walked through the plaintext links. */
async function liveBlocks (blocks: Blockstore, snapshots: SnapshotRow[], into: Set<string>): Promise<void> {
  for (const s of snapshots) {
    into.add(s.cid)
    const stack: CID[] = [parseCid(s.root)]
    into.add(s.root)
    while (stack.length > 0) {
      for (const link of dirLinks(await blocks.get(stack.pop()!))) {
        const key = link.toString()
        if (into.has(key)) continue
        into.add(key)
        if (link.code === DAG_CBOR_CODEC) stack.push(link)
      }
    }
  }
}

/**
 * Retention, the only way data leaves the store: snapshots committed before
 * `beforeMs` that no active legal hold needs are removed from the index, then
 * each affected user's blocks that no remaining snapshot needs are deleted
 * (a held snapshot remains, so its file versions and blocks do too). A dry run (apply false) only
 * lists them. Either way the run is written to the audit log: its intent
 * before anything is removed, its outcome after.
 */
export async function runRetention (
  index: VersionIndex, audit: AuditLog, blocksFor: (user: string) => Promise<Blockstore>, guardHolds: HoldsGuard, beforeMs: number, apply: boolean
): Promise<RetentionResult> {
  return await audit.run('retention', { before: new Date(beforeMs).toISOString(), apply }, async () => await retain(index, blocksFor, guardHolds, beforeMs, apply),
    r => ({
      snapshots: r.snapshots.map(s => s.cid),
      held: r.held.map(h => ({ snapshot: h.snapshot.cid, holds: h.holds })),
      removedBlocks: r.removedBlocks,
      freedBytes: r.freedBytes
    }))
}

/** What retention removes and what holds keep; applied, the snapshots are removed before any hold can be placed (the holds lock). */
async function decide (index: VersionIndex, beforeMs: number, apply: boolean): Promise<RetentionResult> {
  // by the time the store committed each snapshot: a node's own clock cannot push its snapshots out early or keep them
  const expired = (await index.snapshots({})).filter(s => s.committedMs < beforeMs)
  const holds = await heldSnapshots(index)
  const old = expired.filter(s => !holds.has(s.cid))
  const held = expired.filter(s => holds.has(s.cid)).map(snapshot => ({ snapshot, holds: holds.get(snapshot.cid)! }))
  if (apply && old.length > 0) await index.removeSnapshots(old.map(s => s.cid))
  return { snapshots: old, held, removedBlocks: 0, freedBytes: 0, applied: apply }
}

async function retain (
  index: VersionIndex,
  blocksFor: (user: string) => Promise<Blockstore>,
  guardHolds: HoldsGuard,
  beforeMs: number,
  apply: boolean
): Promise<RetentionResult> {
  // a hold placed between reading the holds and removing the snapshots would be lost: no hold is placed meanwhile
  const result = apply ? await guardHolds(async () => await decide(index, beforeMs, true)) : await decide(index, beforeMs, false)
  const old = result.snapshots
  if (apply && old.length > 0) {
    // the snapshots are gone from the index; their blocks that no remaining snapshot needs go now (a hold placed from here on cannot need them)
    for (const user of new Set(old.map(s => s.user))) {
      const blocks = await blocksFor(user)
      const live = new Set<string>()
      await liveBlocks(blocks, await index.snapshots({ user }), live)
      const gc = await blocks.gc(cid => live.has(cid.toString()))
      result.removedBlocks += gc.removed
      result.freedBytes += gc.freedBytes
    }
  }
  return result
}
