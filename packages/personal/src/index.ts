/**
 * @packageDocumentation
 *
 * Personal folders: a user's folder on a CachePoint, versioned offline as
 * immutable snapshots (content-defined chunks sealed with the user's key,
 * directory blocks whose entries are sealed too, a plaintext record naming the
 * root), kept in the node's block store and replicated to the data-center
 * store over `/cachecloud/personal/1.1.0`; with the user's key pair it also merges the user's other machines' snapshots into the folder (`/cachecloud/personal-read/1.0.0`). A watcher and a periodic full scan
 * take snapshots; an unchanged file (size, mtime, ctime, inode) is not read
 * again. Formats: docs/formats/personal.md.
 *
 * @example
 * ```ts
 * const folder = createPersonalFolder({
 *   user: 'alice', folder: '/home/alice/Documents', stateDir: dataDir + '/personal/alice',
 *   blockstore, node: libp2p.peerId.toString(), discoveryKey: 'x25519:...',
 *   libp2p, store: '/ip4/10.0.0.9/tcp/4100/p2p/12D3Koo...'
 * })
 * await folder.start()                       // watch + periodic scan + replicate when reachable
 * await folder.snapshot()                    // now, offline
 * await folder.restore('report.docx', { at: '2026-11-20T12:00:00Z', to: '/tmp/out' })
 * const { pendingSnapshots } = await folder.status()  // what waits for the data center
 * await folder.stop()
 * ```
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import type { CID, ProgressEvent } from '@cachecloud/core'
import { DEFAULT_DEBOUNCE_MS, DEFAULT_REOFFER_INTERVAL_MS, DEFAULT_REPLICATE_INTERVAL_MS, DEFAULT_SCAN_CONCURRENCY, DEFAULT_SCAN_INTERVAL_MS, DEFAULT_TIMEOUT_MS, parseX25519Key, type RestoreResult } from '@cachecloud/personal-format'
import type { ScanStats } from './scan.js'
import type { MergeResult } from './merge-remotes.js'
import { DefaultPersonalFolder, parseStoreTarget } from './folder.js'

export interface PersonalFolderInit {
  /** User name, as enrolled at the store. */
  user: string
  /** The folder to version. */
  folder: string
  /** Directory of this folder's state (user key, scan cache, snapshot log); outside `folder`. */
  stateDir: string
  /** Where sealed chunks and directory blocks go: the node's block store (shared with images). */
  blockstore: Blockstore
  /** This node's libp2p peer id, recorded in each snapshot. */
  node: string
  /** The organization's discovery public key (X25519, raw or `x25519:<base58btc>`). */
  discoveryKey: Uint8Array | string
  /** The user's own X25519 public key: the user key is also wrapped for it (recovery). */
  userPublicKey?: Uint8Array | string
  /** A provisioned user key (32 bytes), e.g. the same on a user's laptop and desktop; else created in stateDir. */
  userKey?: Uint8Array
  /**
   * The user's X25519 private key (raw or `x25519:...`), given to each of the user's machines: the user key
   * is derived from it (the same on every machine), the user key is wrapped for its public key, and the
   * other machines' snapshots are merged into the folder. Wins over `userKey`.
   */
  userPrivateKey?: Uint8Array | string
  /** A file holding the user's key pair (`{ "privateKey": "x25519:...", "publicKey": "x25519:..." }`, mode 0600), read at start; instead of `userPrivateKey`. */
  userKeyFile?: string
  /** Merge the other nodes' snapshots of this user into the folder. Default: true when `userPrivateKey` is given. */
  merge?: boolean
  /** libp2p host and the store to replicate to; without them snapshots stay local. */
  libp2p?: Libp2p
  store?: PeerId | Multiaddr | string
  /** Further addresses of the same store (its other `dcstore serve` processes), tried in order when replicating to the one before fails (unreachable, or cut mid-replication); a refusal is final. */
  fallbackStores?: Array<PeerId | Multiaddr | string>
  /** Watch the folder (node:fs.watch, recursive). Default true. */
  watch?: boolean
  /** Default DEFAULT_SCAN_INTERVAL_MS. */
  scanIntervalMs?: number
  /** Default DEFAULT_DEBOUNCE_MS. */
  debounceMs?: number
  /** Default DEFAULT_REPLICATE_INTERVAL_MS. */
  replicateIntervalMs?: number
  /** With nothing new, offer the latest snapshot again this often. Default DEFAULT_REOFFER_INTERVAL_MS. */
  reofferIntervalMs?: number
  /** Default DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number
  /** Files (batches of small files) in work at once, across directories. 1: one at a time on the calling thread. Default DEFAULT_SCAN_CONCURRENCY. */
  concurrency?: number
  /** Worker threads reading small files and sealing chunks during a scan; 0: the calling thread. Default: one per core, at most 4. */
  sealThreads?: number
  log?: Logger
  onProgress?: (event: ProgressEvent) => void
}

/** One snapshot as the node's log holds it. */
export interface SnapshotInfo {
  cid: CID
  time: string
  root: CID
  parent: CID | null
  files: number
  bytes: number
  /** Sealed bytes it added locally: at most what replicating it sends. */
  newBytes: number
  replicated: boolean
}

export interface SnapshotResult extends SnapshotInfo {
  /** False when nothing changed since the last snapshot (that one is returned). */
  created: boolean
  stats: ScanStats
  /** The folder was empty without history and the user's other machines' snapshots were merged into it first: what that merge applied. */
  merged?: { applied: number, conflicts: string[] }
}

export interface PersonalStatus {
  user: string
  folder: string
  snapshots: number
  /** Snapshots not yet committed by the store, and their new bytes. */
  pendingSnapshots: number
  pendingBytes: number
  lastSnapshot: string | null
  lastScan: ScanStats | null
  lastError: string | null
  /** The last merge of the other nodes' snapshots: when, and the changes applied. */
  lastMerge: { at: string, applied: number } | null
  /** Conflict copies written by merges since start (the last MAX_REPORTED_CONFLICTS) still in the folder, relative paths. */
  conflicts: string[]
}

export interface PersonalFolder {
  /** Takes a first snapshot, then watches, rescans periodically and replicates when the store is reachable. */
  start(): Promise<void>
  /** Stops watching and timers; waits for a running operation. */
  stop(): Promise<void>
  /** Scans now and records a snapshot if anything changed (or `force`). Works offline. */
  snapshot(options?: { force?: boolean }): Promise<SnapshotResult>
  /**
   * Sends every snapshot not yet committed by the store, oldest first. `bytesSent`: block bytes (a delta counts its size);
   * `wireBytes`: all frames both ways (before Noise/yamux); `deltas`: directory blocks sent as deltas of the parent's.
   */
  replicate(): Promise<{ replicated: number, bytesSent: number, wireBytes: number, deltas: number }>
  /**
   * Pauses (true) or resumes (false) the traffic with the store: while paused, snapshots are still taken
   * and kept here (offline-first) but none is sent and no other machine's change is merged; resuming sends
   * what waits at once.
   */
  setPaused(paused: boolean): void
  readonly paused: boolean
  /** Snapshots taken on this node, oldest first. */
  log(): Promise<SnapshotInfo[]>
  status(): Promise<PersonalStatus>
  /** CIDs of every block the local snapshots need: the daemon's block-store GC must keep them (`gc(cid => live.has(cid.toString()) || ...)`). */
  liveBlocks(): Promise<Set<string>>
  /** Restores PATH ('' = all) from the last snapshot at or before `at` into `to` (default: the folder itself). */
  restore(path?: string, options?: RestoreOptions): Promise<RestoreResult & { snapshot: SnapshotInfo }>
  /**
   * Merges the latest snapshot of each other node of this user (from the store) into the folder:
   * remote changes applied where the local file is unchanged since the base, conflicts kept as copies.
   */
  mergeRemotes(): Promise<MergeResult>
}

export interface RestoreOptions {
  at?: Date | string
  to?: string
  /** Restore from the user's latest snapshot at the store (any of the user's nodes), fetching what this node lacks. */
  fromStore?: boolean
}

export function createPersonalFolder (init: PersonalFolderInit): PersonalFolder {
  const key = (k: Uint8Array | string): Uint8Array => typeof k === 'string' ? parseX25519Key(k) : k
  const store = parseStoreTarget(init.store)
  return new DefaultPersonalFolder({
    user: init.user,
    folder: init.folder,
    stateDir: init.stateDir,
    blockstore: init.blockstore,
    node: init.node,
    discoveryKey: key(init.discoveryKey),
    ...(init.userPublicKey === undefined ? {} : { userPublicKey: key(init.userPublicKey) }),
    ...(init.userKey === undefined ? {} : { userKey: init.userKey }),
    ...(init.userPrivateKey === undefined ? {} : { userPrivateKey: key(init.userPrivateKey) }),
    ...(init.userKeyFile === undefined ? {} : { userKeyFile: init.userKeyFile }),
    merge: init.merge ?? (init.userPrivateKey !== undefined || init.userKeyFile !== undefined),
    ...(init.libp2p === undefined ? {} : { libp2p: init.libp2p }),
    ...(store === undefined ? {} : { store }),
    ...(init.fallbackStores === undefined || init.fallbackStores.length === 0 ? {} : { fallbackStores: init.fallbackStores.map(s => parseStoreTarget(s)!) }),
    timing: {
      scanIntervalMs: init.scanIntervalMs ?? DEFAULT_SCAN_INTERVAL_MS,
      debounceMs: init.debounceMs ?? DEFAULT_DEBOUNCE_MS,
      replicateIntervalMs: init.replicateIntervalMs ?? DEFAULT_REPLICATE_INTERVAL_MS,
      reofferIntervalMs: init.reofferIntervalMs ?? DEFAULT_REOFFER_INTERVAL_MS,
      timeoutMs: init.timeoutMs ?? DEFAULT_TIMEOUT_MS
    },
    watch: init.watch ?? true,
    concurrency: init.concurrency ?? DEFAULT_SCAN_CONCURRENCY,
    ...(init.sealThreads === undefined ? {} : { sealThreads: init.sealThreads }),
    ...(init.log === undefined ? {} : { log: init.log }),
    ...(init.onProgress === undefined ? {} : { onProgress: init.onProgress }),
    init
  })
}

// the formats (sealing, keys, trees, deltas, wire messages, signatures, reading a tree back), for callers of the engine
export * from '@cachecloud/personal-format'
export { StoreReader, fetchSnapshot, type RemoteSnapshot, type StoreReaderInit } from './store-reader.js'
export { adoptUserKey, adoptUserKeyPair, readPreviousKeys, readUserKeyFile, writeUserKeyFile } from './user-key.js'
export { replicateSnapshot, type ReplicateInit, type ReplicateResult } from './replicate.js'
export type { ScanStats } from './scan.js'
export type { MergeResult } from './merge-remotes.js'
export { planMerge, conflictName, versionKey, type MergePlan, type MergeAction } from './merge.js'
