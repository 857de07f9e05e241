/**
 * @packageDocumentation
 *
 * The data-center store of personal folders: a libp2p peer that receives
 * snapshots over `/cachecloud/personal/1.2.0` and 1.1.0 (and `/cachecloud/personal-read/1.0.0`) from enrolled CachePoints
 * (each may write only the users enrolled with it), keeps them append-only in
 * one block store per user, indexes every file version (SQLite by default,
 * behind `VersionIndex`), and answers legal discovery (tree at a time, diff,
 * search, timeline, export) with every query written to a signed, hash-chained audit
 * log (intent before, outcome after). Content is opened only with the organization's discovery private key,
 * which is passed in, never stored in the data directory.
 * Formats: docs/formats/personal.md#store.
 *
 * @example
 * ```ts
 * const auditKey = await readAuditKey('/etc/dcstore/audit.key', '/srv/dcstore') // kept off the data directory
 * const store = createDcStore({ path: '/srv/dcstore', libp2p, discoveryPrivateKey, auditKey })
 * await store.start()
 * await store.enroll('12D3KooW...', ['alice'])
 * const tree = await store.discovery.treeAt('alice', '2026-11-20T12:00:00Z')
 * await store.discovery.export('alice', '2026-11-20T12:00:00Z', '/case/4711')
 * await store.verifyAudit()
 * ```
 */
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { PoolConfig } from 'pg'
import type { EnrollmentTable } from './enrollment.js'
import type { Discovery } from './discovery.js'
import type { VersionIndex } from './version-index.js'
import type { RetentionResult } from './retention.js'
import type { AuditHead, AuditReport } from './audit.js'
import type { AuditKey } from './audit-key.js'
import type { CheckOptions, CheckReport } from './check.js'
import type { RepairReport } from './repair.js'
import type { BackendConfig } from './backends.js'
import { DefaultDcStore } from './store.js'

export interface DcStoreInit {
  /** Data directory (a NAS/SAN mount in production). */
  path: string
  /** Create the store when the directory holds none. Default true; false (read commands): NoStoreError instead. */
  create?: boolean
  /** Serve replication on this host; without it the store answers discovery only. */
  libp2p?: Libp2p
  /** X25519 private key of the organization's discovery key: needed to index incoming snapshots and to export. */
  discoveryPrivateKey?: Uint8Array
  /** Where the users' blocks live. Default: the local directory `<path>/blocks` (one process). */
  blocks?: BackendConfig
  /** A PostgreSQL database (`pg` pool config) the store processes sharing this store coordinate through: each audit append holds an advisory lock there. Default: lock files in the data directory only. */
  coordination?: PoolConfig
  /** Index backend. Default: SQLite at `<path>/index.sqlite`. */
  index?: VersionIndex
  /** The audit log's signing key (ed25519, kept outside the data directory): every audited call (enroll, unenroll, discovery, retention) fails with AuditKeyRequiredError without it. */
  auditKey?: AuditKey
  /** Who the operator says they are (written to the audit log beside the OS user of the process, and to export manifests). */
  operator?: string
  log?: Logger
  /** Default DEFAULT_MAX_INBOUND_STREAMS. */
  maxInboundStreams?: number
  /** Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number
  /** Default DEFAULT_COMMIT_BYTES. */
  commitBytes?: number
  /** Most entries an offered snapshot's tree may have (walked before it is committed). Default MAX_TREE_ENTRIES. */
  maxTreeEntries?: number
  /** What the serving store moves, per stream (metrics). */
  onEvent?: (e: DcStoreEvent) => void
}

/** One stream's traffic: a replication received (bytes: every frame the node sent; blocks received; stored: newly written), or reads served (bytes: every frame sent). */
export type DcStoreEvent =
  | { type: 'replication:received', bytes: number, blocks: number, stored: number }
  | { type: 'read:served', bytes: number, blocks: number }

/**
 * Concurrency: the process that opens the users' block stores (serving, a
 * retention that applies, an export) holds the data directory's lock
 * (`store.lock`); another gets StoreInUseError. Queries of the index,
 * enrollment and the audit log need no lock and run beside a serving store.
 */
export interface DcStore {
  start(): Promise<void>
  stop(): Promise<void>
  /** Enrolls a node (peer id) for users; audited. */
  enroll(peerId: string, users: string[]): Promise<void>
  /** Removes a node (a lost or stolen machine; NotEnrolledError if unknown): its streams from then on are refused; audited. Returns the users it could write. */
  unenroll(peerId: string): Promise<string[]>
  enrollment(): EnrollmentTable
  readonly discovery: Discovery
  /** Removes snapshots the store committed before a time and the blocks no remaining snapshot needs (dry run unless `apply`); audited. */
  retention(before: Date | string | number, apply: boolean): Promise<RetentionResult>
  /** Checks the store's integrity without changing it (the data-directory lock is held meanwhile): every user's block store files, every snapshot's blocks present, with `readData` every block read and verified. */
  check(options?: CheckOptions): Promise<CheckReport>
  /**
   * Checks (as `check`, reading every block unless `readData: false`), then drops the entries of every damaged or lost
   * block (the index log rewritten crash-safely), and records the snapshots
   * still lacking blocks in repair-pending.json: their node's next
   * replication (protocol 1.2.0) re-sends them. Local block directory only
   * (RepairUnsupportedError otherwise); needs the store stopped.
   */
  repair(options?: CheckOptions): Promise<RepairReport>
  /** Checks the audit chain, signatures and head (and an anchored head kept elsewhere); throws AuditChainBrokenError. */
  verifyAudit(options?: { anchor?: AuditHead }): Promise<AuditReport>
}

export function createDcStore (init: DcStoreInit): DcStore {
  return new DefaultDcStore(init)
}

export * from './constants.js'
export * from './errors.js'
export type * from './version-index.js'
export type { EnrollmentTable } from './enrollment.js'
export type { Discovery, TreeAt, TreeDiff, TimelineItem, ExportManifest, TimeArg, InMatter } from './discovery.js'
export type { Matters, MatterInit, HoldInit, MatterView } from './matters.js'
export { snapshotsOfHold } from './holds.js'
export type { TextSearch, TextSearchQuery, TextSearchResult, TextCoverage, TextIndexStatus } from './text-search.js'
export { parsePhrases } from './text-search.js'
export type { TextIndexer, TextIndexOptions, TextIndexProgress, TextIndexRun } from './text-indexer.js'
export { extractText, kindOf, xmlText } from './text-extract.js'
export type { ReviewExporter, ReviewExportInit, ReviewExportManifest, ReviewDocument } from './review-export.js'
export { DAT_FIELDS, DAT_MULTI, DAT_NEWLINE, DAT_QUOTE, DAT_SEPARATOR, formatDat, parseDat, type DatRecord } from './load-file.js'
export type { AuditEntry, AuditHead, AuditReport, AuditWho } from './audit.js'
export type { AuditKey } from './audit-key.js'
export { generateAuditKey, formatAuditKey, parseAuditKey, readAuditKey, writeAuditKey } from './audit-key.js'
export type { RetentionResult } from './retention.js'
export type { AffectedSnapshot, CheckDamage, CheckDamageKind, CheckOptions, CheckProgress, CheckReport, CheckSubset } from './check.js'
export type { RepairReport } from './repair.js'
export type { PendingRepair } from './repair-pending.js'
export { AuditLog } from './audit.js'
export type { BackendKind, BlockBackend } from './backend.js'
export { createBackend, parseBackendSpec, type BackendConfig } from './backends.js'
export type { S3BackendConfig } from './s3.js'
export { createSqliteIndex, createPgIndex } from './store.js'
export { globToRegex } from './pg-index.js'
