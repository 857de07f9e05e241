/**
 * `dcstore check --repair` (docs/formats/dcstore.md#repair): nothing is
 * lost and nothing unverified is taken as present. The check runs first
 * (read-only); then each damaged user's block store is opened, which
 * recovers it (a torn index-log tail cut, entries of missing or short packs
 * dropped, verified records in pack tails taken back), every block the check
 * found lost or corrupt loses its entry, and the index log is rewritten
 * whole from the index (temporary file, fsync, rename). A second check then
 * finds the snapshots still lacking blocks: they are recorded in
 * repair-pending.json, and the node that took each re-sends what is missing
 * at its next replication (protocol 1.2.0). The snapshots stay in the index
 * meanwhile (their file versions are discovery's record); `check` reports
 * them as damage naming the user and node until they are whole.
 */
import { CID } from '@cachecloud/core'
import type { BlockBackend } from './backend.js'
import { noteWaiting, runCheck, type CheckOptions, type CheckReport } from './check.js'
import type { PendingRepair, PendingRepairs } from './repair-pending.js'
import type { VersionIndex } from './version-index.js'

export interface RepairReport {
  /** Whole again: nothing damaged and nothing waiting. */
  ok: boolean
  /** What the check found before the repair. */
  before: CheckReport
  /** Block entries dropped (lost or failed verification). */
  droppedBlocks: number
  /** Users whose block store was recovered and whose index log was rewritten. */
  repairedUsers: string[]
  /** Users whose block store could not be opened (an unknown format): left as they were. */
  skippedUsers: string[]
  /** The check after the repair (its damage: what waits for replication, and anything left). */
  after: CheckReport
  /** Snapshots now waiting for their node to replicate. */
  pending: PendingRepair[]
  seconds: number
}

const decodeKey = (key: string): CID => CID.decode(Buffer.from(key, 'latin1'))

export async function runRepair (
  index: VersionIndex,
  dataDir: string,
  backend: BlockBackend,
  pending: PendingRepairs,
  options: CheckOptions = {}
): Promise<RepairReport> {
  const t0 = Date.now()
  const drop = new Map<string, Set<string>>()
  const before = await runCheck(index, dataDir, options, { drop, pending: pending.list() })
  const damaged = [...new Set(before.damage.filter(d => d.kind !== 'awaiting-replication').map(d => d.user))].sort()
  const repairedUsers: string[] = []
  const skippedUsers: string[] = []
  let droppedBlocks = 0
  try {
    for (const user of damaged) {
      // a directory without a block store, or of a format this version does not read, is not opened (that would create or refuse one)
      if (before.damage.some(d => d.user === user && (d.kind === 'store-missing' || d.kind === 'version'))) { skippedUsers.push(user); continue }
      // opening recovers: a torn log tail cut, entries in missing or short packs dropped, verified records of pack tails taken back
      const blocks = await backend.blockstore(user)
      // (the entries of lost packs are gone already, dropped by the recovery: counted all the same)
      const cids = [...drop.get(user) ?? []].map(decodeKey)
      droppedBlocks += cids.length
      await blocks.repair(cids)
      repairedUsers.push(user)
    }
  } finally {
    // closed before the second check reads the files
    await backend.stop()
  }
  const after = await runCheck(index, dataDir, {})
  const rows = new Map((await index.snapshots({})).map(s => [s.cid, s]))
  const since = new Date().toISOString()
  const entries: PendingRepair[] = after.affected.map(a => ({
    user: a.user, node: a.node, snapshot: a.snapshot, root: rows.get(a.snapshot)!.root, time: a.time, badBlocks: a.badBlocks,
    // a snapshot recorded before keeps its date; a node that answered it lacks blocks is asked again (it may have been repaired too)
    since: pending.get(a.snapshot)?.since ?? since, unavailable: 0
  }))
  await pending.replace(entries)
  noteWaiting(after, entries)
  after.ok = after.damage.length === 0
  return { ok: after.ok, before, droppedBlocks, repairedUsers, skippedUsers, after, pending: entries, seconds: (Date.now() - t0) / 1000 }
}
