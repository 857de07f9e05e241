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
export interface VersionIndex extends MatterIndex, TextIndex {
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

/** A legal matter (case): who it concerns and when. Its audit trail is the audit log's entries that name it (`params.matter`). */
export interface MatterRow {
  /** Stable id counsel uses (`MATTER_ID_PATTERN`). */
  id: string
  name: string
  /** Users whose data the matter concerns. */
  custodians: string[]
  /** Optional inclusive date range of the matter, ms since the epoch. */
  fromMs: number | null
  toMs: number | null
  createdMs: number
  createdBy: string
}

/** A legal hold within a matter: what retention must keep of one custodian (optionally a date range and a path glob). */
export interface HoldRow {
  id: string
  matter: string
  custodian: string
  /** Inclusive bounds on snapshot time: the custodian's data as it was at every time in the range (null: unbounded). */
  fromMs: number | null
  toMs: number | null
  /** Only snapshots holding a file whose path matches (null: every snapshot). */
  glob: string | null
  placedMs: number
  placedBy: string
  reason: string
  /** Set when released; a released hold keeps nothing. */
  releasedMs: number | null
  releasedBy: string | null
  releaseReason: string | null
}

export interface HoldQuery {
  matter?: string
  custodian?: string
  /** true: only holds not released. */
  active?: boolean
}

/** Matters and holds, kept beside the file versions in the same database (and under the same contract suite). */
export interface MatterIndex {
  /** False (nothing written) when a matter with that id exists. */
  createMatter(matter: MatterRow): Promise<boolean>
  getMatter(id: string): Promise<MatterRow | undefined>
  /** Every matter, by id. */
  matters(): Promise<MatterRow[]>
  /** Adds a hold (its matter must exist). */
  placeHold(hold: HoldRow): Promise<void>
  /** Marks an active hold released; false when there is no such active hold. */
  releaseHold(id: string, release: { releasedMs: number, releasedBy: string, releaseReason: string }): Promise<boolean>
  /** Holds by placement time, oldest first. */
  holds(query: HoldQuery): Promise<HoldRow[]>
}

/** What became of a content's text: indexed whole, indexed in part (truncated), or not, and why. */
export type TextStatus = 'indexed' | 'truncated' | 'unsupported' | 'too-large' | 'timeout' | 'failed'

/** A content's text as the index keeps it: its words as blind tokens (text-tokens.ts), and the text sealed. */
export interface TextBody { blinded: string, sealed: Uint8Array }

/** One content (by SHA-256: the same bytes in several custodians' folders are read once) in the text index. */
export interface TextDocRow {
  sha256: string
  status: TextStatus
  /** Why not (or not wholly) indexed. */
  reason: string | null
  /** Characters of text indexed. */
  chars: number
  indexedMs: number
}

/** A content not yet in the text index, with one file version that holds it (to read it from). */
export interface PendingText {
  sha256: string
  user: string
  snapshot: string
  path: string
  size: number
}

/** The file versions a text search or its coverage looks at: those of the given snapshots, optionally filtered. */
export interface TextScope {
  snapshots: string[]
  glob?: string
  /** File name extensions, lowercase, without the dot. */
  types?: string[]
  minSize?: number
  maxSize?: number
  mtimeFromMs?: number
  mtimeToMs?: number
}

/** A search hit: one version of one file (its first snapshot in scope), with a snippet around the match. */
export interface TextHit extends TextMatchBase {
  snippet: string
}

/** What a backend returns for a hit: the version, and its content's sealed text (the snippet is made from it with the key). */
export interface TextMatch extends TextMatchBase {
  sealed: Uint8Array
}

interface TextMatchBase {
  user: string
  node: string
  path: string
  sha256: string
  size: number
  mtimeMs: number
  snapshot: string
  snapshotMs: number
}

/** One version of one file in scope with its text status (null: not processed yet). */
export interface TextCoverageRow {
  user: string
  node: string
  path: string
  sha256: string
  size: number
  snapshotMs: number
  status: TextStatus | null
  reason: string | null
}

/** The text of every content, full-text searchable: SQLite FTS5 or PostgreSQL full-text search. */
export interface TextIndex {
  /**
   * File versions whose content is not yet processed, at most `limit`, in
   * (snapshot, path) order after `after` (a cursor: each batch starts where the
   * last ended, so a pass over the index reads it once); one content may come
   * several times (the indexer takes it once).
   */
  pendingText(limit: number, after?: { snapshot: string, path: string }): Promise<PendingText[]>
  /** Records what became of a content and its text (null unless indexed or truncated): its words as blind tokens, and the text sealed; a repeat replaces it. */
  putText(doc: TextDocRow, text: TextBody | null): Promise<void>
  /** putText of several contents in one transaction. */
  putTexts(items: Array<{ doc: TextDocRow, text: TextBody | null }>): Promise<void>
  /** Contents known and processed, by status. */
  textCounts(): Promise<{ contents: number, byStatus: Partial<Record<TextStatus, number>> }>
  /** Versions in scope whose text holds every phrase (each a run of blind tokens), by first snapshot time. */
  searchText(phrases: string[], scope: TextScope, limit: number): Promise<TextMatch[]>
  /** Every version in scope with its text status. */
  textCoverage(scope: TextScope, options?: { notIndexedOnly?: boolean, limit?: number }): Promise<TextCoverageRow[]>
  /** How many versions in scope there are by their content's text status ('pending': not processed). */
  textCoverageCounts(scope: TextScope): Promise<Partial<Record<TextStatus | 'pending', number>>>
}
