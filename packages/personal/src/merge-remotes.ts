import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'
import { applyMerge } from './apply.js'
import { DecryptionFailedError, openDir, verifyRecord, type UserKeys } from '@cachecloud/personal-format'
import { dropStale, resolveSequential } from './history.js'
import { flattenTree, planMerge, versionsOf } from './merge.js'
import { parseCid } from '@cachecloud/core'
import { loadMergeBase, saveMergeBase } from './state.js'
import { fetchSnapshot, type RemoteSnapshot, type StoreReader } from './store-reader.js'

export interface MergeRemotesInit {
  reader: StoreReader
  blockstore: Blockstore
  keys: UserKeys
  folder: string
  user: string
  node: string
  /** The sync-base state file. */
  basePath: string
  /** Takes a local snapshot now (inside the caller's exclusive section): the local side of the merge. */
  snapshotNow: () => Promise<{ root: CID }>
  /** The user's snapshot-signing public key: a remote snapshot not signed with it is not merged. Without it nothing can be verified and nothing is merged. */
  signingPublicKey?: Uint8Array
  /** Roots of this node's snapshots, newest first: a remote version found there is one the remote is merely behind on. */
  localRoots: () => Promise<CID[]>
  log?: Logger
}

export interface MergeResult {
  /** Other nodes' snapshots merged. */
  merged: number
  /** Remote versions written or deletions applied to the folder. */
  applied: number
  /** Conflict copies written (paths relative to the folder). */
  conflicts: string[]
  /** Paths left for the next pull (changed while merging). */
  skipped: number
  /** Block bytes fetched from the store. */
  fetchedBytes: number
  /** Snapshots sealed with another user key (a machine without the user's key pair): not merged. */
  foreign: string[]
  /** Snapshots without a valid signature of the user's machines (forged, e.g. by a holder of the discovery key, or unsigned): not merged. */
  unverified: string[]
}

/**
 * Whether a snapshot's root block opens with these keys (fetched first, alone):
 * it was sealed by a machine holding the same user key, so it is the user's.
 */
export async function opensWith (reader: StoreReader, blockstore: Blockstore, keys: UserKeys, s: RemoteSnapshot): Promise<boolean> {
  const root = s.record.root
  const block = await blockstore.has(root) ? await blockstore.get(root) : (await reader.get([root]))[0][1]
  try { openDir(keys, block); return true } catch (err) {
    if (err instanceof DecryptionFailedError) return false
    throw err
  }
}

/**
 * Merges the latest snapshot of every other node of the user into the live
 * folder (docs/formats/personal.md#convergence): fetches the blocks it lacks,
 * takes a local snapshot, plans a three-way merge against the base and
 * applies it, then saves the base. A crash at any point redoes the merge
 * next time; a path already merged is then found equal on both sides.
 */
export async function mergeRemotes (init: MergeRemotesInit): Promise<MergeResult> {
  const result: MergeResult = { merged: 0, applied: 0, conflicts: [], skipped: 0, fetchedBytes: 0, foreign: [], unverified: [] }
  const base = await loadMergeBase(init.basePath)
  for (const remote of await init.reader.heads(init.user)) {
    const node = remote.record.node
    if (node === init.node || base.merged[node]?.cid === remote.cid.toString()) continue
    // signed by one of the user's machines, or not merged: the discovery key opens the user key, but cannot sign
    if (init.signingPublicKey === undefined || !verifyRecord(remote.record, init.signingPublicKey)) {
      result.unverified.push(remote.cid.toString())
      init.log?.warn({ node, snapshot: remote.cid.toString() }, 'snapshot of another node is not signed by the user\'s machines: not merged')
      continue
    }
    if (!await opensWith(init.reader, init.blockstore, init.keys, remote)) {
      result.foreign.push(remote.cid.toString())
      init.log?.warn({ node, snapshot: remote.cid.toString() }, 'snapshot of another node is sealed with another user key: not merged')
      continue
    }
    result.fetchedBytes += (await fetchSnapshot(init.reader, init.blockstore, remote)).bytes
    const local = await init.snapshotNow()
    // the base: this node's snapshot merged last time, so a node that is merely behind reverts nothing
    const last = base.merged[node]
    const [mine, theirs, before] = await Promise.all([
      flattenTree(init.blockstore, init.keys, local.root), flattenTree(init.blockstore, init.keys, remote.record.root),
      last === undefined ? undefined : flattenTree(init.blockstore, init.keys, parseCid(last.root))
    ])
    const plan = planMerge(mine, theirs, before === undefined ? new Map() : versionsOf(before), init.node, node)
    plan.actions = await resolveSequential(init.reader, init.blockstore, init.keys, remote, base.merged[node]?.cid, plan.actions)
    plan.actions = await dropStale(init.blockstore, init.keys, await init.localRoots(), plan.actions)
    const applied = await applyMerge(
      { folder: init.folder, blocks: init.blockstore, keys: init.keys, remote: theirs, ...(init.log === undefined ? {} : { log: init.log }) },
      plan
    )
    // a skipped path must be merged again: the snapshot is not marked merged (the next merge against the same base finds the rest done)
    if (applied.skipped.length === 0) {
      base.merged[node] = { cid: remote.cid.toString(), root: remote.record.root.toString(), time: remote.record.time }
      await saveMergeBase(init.basePath, base)
    }
    result.merged++; result.applied += applied.applied; result.conflicts.push(...applied.conflicts); result.skipped += applied.skipped.length
    init.log?.info({ node, snapshot: remote.cid.toString(), applied: applied.applied, conflicts: applied.conflicts.length, skipped: applied.skipped.length }, 'merged snapshot of another node')
  }
  return result
}
