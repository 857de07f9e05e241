import type { HoldRow, SnapshotRow, VersionIndex } from './version-index.js'

/**
 * Runs `fn` with no hold being placed and no retention deciding meanwhile, in
 * this or another process (the store's holds lock, STORE_FILES.holdsLock).
 */
export type HoldsGuard = <T>(fn: () => Promise<T>) => Promise<T>

/** Unbounded: every file version of a held custodian counts, however many. */
const ALL = Number.MAX_SAFE_INTEGER

/**
 * The snapshots a hold needs: the custodian's data as it was at every time in
 * its range, i.e. each snapshot taken in the range plus, per node, the last
 * at or before its start (what the custodian had then). With a
 * glob, only those of them holding a file version whose path matches. A hold
 * without a range needs every snapshot, also those still to come.
 */
export async function snapshotsOfHold (index: VersionIndex, hold: HoldRow): Promise<SnapshotRow[]> {
  const all = await index.snapshots({ user: hold.custodian })
  const from = hold.fromMs ?? -Infinity
  const to = hold.toMs ?? Infinity
  const before = new Map<string, SnapshotRow>()
  for (const s of all) if (s.timeMs <= from) before.set(s.node, s)
  const wanted = new Set([...before.values()].map(s => s.cid))
  let held = all.filter(s => wanted.has(s.cid) || (s.timeMs >= from && s.timeMs <= to))
  if (hold.glob !== null) {
    const matching = new Set((await index.search({ user: hold.custodian, glob: hold.glob, limit: ALL })).map(f => f.snapshot))
    held = held.filter(s => matching.has(s.cid))
  }
  return held
}

/** Every snapshot some active hold needs, with the ids of the holds that need it. */
export async function heldSnapshots (index: VersionIndex): Promise<Map<string, string[]>> {
  const held = new Map<string, string[]>()
  for (const hold of await index.holds({ active: true })) {
    for (const s of await snapshotsOfHold(index, hold)) held.set(s.cid, [...(held.get(s.cid) ?? []), hold.id])
  }
  return held
}
