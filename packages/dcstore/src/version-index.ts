/** One committed snapshot. */
export interface SnapshotRow {
  /** Snapshot record CID. */
  cid: string
  user: string
  node: string
  /** Snapshot time (the node's scan start), ms since the epoch. */
  timeMs: number
  parent: string | null
  root: string
  files: number
  bytes: number
  /** When the store committed it, ms since the epoch. */
  committedMs: number
}

/** One version of one file (or symlink) as a snapshot holds it. */
export interface FileRow {
  snapshot: string
  user: string
  node: string
  path: string
  kind: 'file' | 'symlink'
  size: number
  /** Hex SHA-256 of the content (of the target text for a symlink). */
  sha256: string
  mtimeMs: number
  mode: number
  snapshotMs: number
}

export interface SnapshotQuery {
  user?: string
  node?: string
  /** Inclusive bounds on snapshot time. */
  fromMs?: number
  toMs?: number
}

export interface SearchQuery {
  user?: string
  /** Shell glob on the path (`*` also crosses '/'). */
  glob?: string
  sha256?: string
  limit?: number
}

/**
 * The index of every file version: one interface, an SQLite backend by
 * default; every backend passes the suite in test/index-suite.ts.
 */
export interface VersionIndex {
  start(): Promise<void>
  stop(): Promise<void>
  hasSnapshot(cid: string): Promise<boolean>
  /** Adds a snapshot and its files in one transaction. False (and nothing written) when already present. */
  commitSnapshot(snapshot: SnapshotRow, files: FileRow[]): Promise<boolean>
  /** Snapshots by time, oldest first. */
  snapshots(query: SnapshotQuery): Promise<SnapshotRow[]>
  /** The last snapshot of each node of `user` at or before `atMs`, oldest first: what the user's machines read (no scan of the user's whole history). */
  latestSnapshots(user: string, atMs: number): Promise<SnapshotRow[]>
  /** Files of one snapshot, by path. */
  files(snapshot: string): Promise<FileRow[]>
  /** File versions by path glob and/or content hash, oldest first. */
  search(query: SearchQuery): Promise<FileRow[]>
  /** Removes snapshots and their files in one transaction (retention only); returns how many were removed. */
  removeSnapshots(cids: string[]): Promise<number>
}
