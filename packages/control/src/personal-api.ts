/** Personal folders (docs/formats/personal.md): status, log, snapshot, restore. */

/** One user's personal folder as status shows it (docs/formats/personal.md). */
export interface PersonalStatusInfo {
  user: string
  folder: string
  snapshots: number
  /** Snapshots not yet committed by the store, and the sealed bytes they add. */
  pendingSnapshots: number
  pendingBytes: number
  /** Time of the last snapshot (ISO 8601), null before the first. */
  lastSnapshot: string | null
  lastScan: { files: number, bytes: number, hashedFiles: number, hashedBytes: number, newBlocks: number, newBytes: number, sealedDirs: number } | null
  /** Last background failure (e.g. store unreachable); snapshots go on offline. */
  lastError: string | null
  /** The last merge of the user's other machines' changes (with a user key file): when, and the changes applied. */
  lastMerge?: { at: string, applied: number } | null
  /** Conflict copies merges wrote (since the daemon started, the last 20) that are still in the folder: they need the user's attention. */
  conflicts?: string[]
}

/** One snapshot of a user's folder. */
export interface PersonalSnapshotInfo {
  cid: string
  time: string
  root: string
  parent: string | null
  files: number
  bytes: number
  newBytes: number
  replicated: boolean
}

export interface PersonalSnapshotResultInfo extends PersonalSnapshotInfo {
  /** False when nothing changed since the last snapshot (that one is returned). */
  created: boolean
  /** Snapshots sent to the store right after; absent with the error when the store was not reached. */
  sent?: number
  /** With a user key file: the other machines' changes merged into the folder, and the conflict copies written. */
  merged?: { applied: number, conflicts: string[] }
  replicateError?: string
}

export interface PersonalRestoreRequest {
  user: string
  /** Path inside the folder; default: all of it. */
  path?: string
  /** Restore from the last snapshot at or before this time (ISO 8601); default: the last one. */
  at?: string
  /** Directory to write into; default: the folder itself. */
  to?: string
  /** Restore from the user's latest snapshot at the data-center store (any of the user's nodes), e.g. on a new machine. */
  fromStore?: boolean
}

export interface PersonalRestoreResultInfo {
  user: string
  snapshot: PersonalSnapshotInfo
  files: number
  bytes: number
  paths: string[]
}

/** The daemon's `personal` subsystem: one versioned folder per configured user. */
export interface PersonalApi {
  /** Every configured user's folder. */
  status(): Promise<PersonalStatusInfo[]>
  /** A user's snapshots, newest last. */
  log(user: string): Promise<PersonalSnapshotInfo[]>
  /** Snapshots now (offline too), then sends pending snapshots if a store is configured. */
  snapshot(user: string): Promise<PersonalSnapshotResultInfo>
  restore(request: PersonalRestoreRequest): Promise<PersonalRestoreResultInfo>
}
