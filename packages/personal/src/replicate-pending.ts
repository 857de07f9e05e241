import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import type { CID, ProgressEvent } from '@cachecloud/core'
import { ReplicationRefusedError, type UserKeys } from '@cachecloud/personal-format'
import { pairDirBlocks } from './pair.js'
import { replicateSnapshot } from './replicate.js'
import { appendReplicated, type LoggedSnapshot } from './state.js'

/** What one replication pass needs: the store, the folder's keys and blocks, its snapshot log and what the store has of it. */
export interface ReplicatePendingInit {
  libp2p: Libp2p
  /** The store's processes in order: the store, then its fallback addresses. */
  targets: Array<PeerId | Multiaddr>
  blockstore: Blockstore
  keys: UserKeys
  /** The folder's snapshot log, oldest first. */
  snapshots: LoggedSnapshot[]
  /** CIDs of the snapshots the store committed; each one replicated now is added (and appended to `replicatedPath`). */
  done: Set<string>
  /** The state file of replicated snapshots. */
  replicatedPath: string
  timeoutMs: number
  /** When nothing is new, the latest snapshot is offered again if none was offered for this long. */
  reofferIntervalMs: number
  /** When a snapshot was last offered to the store (performance.now()). */
  lastOffer: number
  /** Told of every offer the store answered. */
  onOffered: () => void
  /** Whether a snapshot's root opens with `keys` (one sealed with a key the folder had before does not). */
  opens: (root: CID) => Promise<boolean>
  log?: Logger
  onProgress?: (event: ProgressEvent) => void
}

/** What a replication pass sent: snapshots the store committed, block bytes, bytes on the wire, directory blocks sent as deltas. */
export interface ReplicatePendingResult {
  replicated: number
  bytesSent: number
  wireBytes: number
  deltas: number
}

/**
 * Sends the store every snapshot of the log it has not committed, oldest first, each changed directory
 * block as a delta of its parent's; with nothing new, now and then the latest again (see reofferIntervalMs).
 */
export async function replicatePending (init: ReplicatePendingInit): Promise<ReplicatePendingResult> {
  const { libp2p, targets, blockstore, keys, snapshots, done } = init
  let replicated = 0
  let bytesSent = 0
  let wireBytes = 0
  let deltas = 0
  const roots = new Map(snapshots.map(s => [s.cid.toString(), s.root]))
  const offerToStore = async (s: LoggedSnapshot, deltaBases?: Map<string, CID>): Promise<Awaited<ReturnType<typeof replicateSnapshot>>> => {
    const bytes = await blockstore.get(s.cid)
    const onProgress = init.onProgress
    const offer = async (target: PeerId | Multiaddr): Promise<Awaited<ReturnType<typeof replicateSnapshot>>> => await replicateSnapshot({
      libp2p, store: target, blockstore, record: { cid: s.cid, bytes, root: s.root }, timeoutMs: init.timeoutMs,
      ...(deltaBases === undefined ? {} : { deltaBases }), ...(onProgress === undefined ? {} : { onProgress })
    })
    // the store's processes in order: one killed mid-replication leaves the next to finish (it wants only what was not made durable)
    for (let i = 0; ; i++) {
      try {
        const r = await offer(targets[i])
        init.onOffered()
        return r
      } catch (err) {
        if (err instanceof ReplicationRefusedError || i === targets.length - 1) throw err
        init.log?.warn({ store: targets[i].toString(), err }, 'replication to the store failed, trying its next address: %s', (err as Error).message)
      }
    }
  }
  for (const s of snapshots) {
    if (done.has(s.cid.toString())) continue
    // changed directory blocks go as deltas of the parent's, which the store committed
    const parentRoot = s.parent !== null && done.has(s.parent.toString()) ? roots.get(s.parent.toString()) : undefined
    // (a parent sealed with the key the folder had before adopting a key pair has no blocks in common: sent whole)
    const deltaBases = parentRoot === undefined || !await init.opens(parentRoot)
      ? undefined
      : await pairDirBlocks(
        blockstore,
        keys,
        s.root,
        parentRoot
      )
    const r = await offerToStore(s, deltaBases)
    done.add(s.cid.toString())
    await appendReplicated(init.replicatedPath, s.cid)
    replicated++; bytesSent += r.bytesSent; wireBytes += r.wireBytesOut + r.wireBytesIn; deltas += r.deltas
  }
  // nothing new: now and then the latest snapshot again, so that a store repairing lost blocks can ask for them
  const latest = snapshots.findLast(s => done.has(s.cid.toString()))
  if (replicated === 0 && latest !== undefined && performance.now() - init.lastOffer >= init.reofferIntervalMs) {
    const r = await offerToStore(latest)
    bytesSent += r.bytesSent; wireBytes += r.wireBytesOut + r.wireBytesIn
  }
  return { replicated, bytesSent, wireBytes, deltas }
}
