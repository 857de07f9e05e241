import type { ErrorKind, ProgressEvent } from '@cachecloud/core'
import type { PullPlan, RolloutView, SwarmPullStatus } from '@cachecloud/swarm'
import type { ExportInfo } from './exports-api.js'

/** One image version held by a CachePoint, as the API shows it. */
export interface ImageVersionInfo {
  name: string
  version: string
  /** Manifest CID. */
  cid: string
  state: 'complete' | 'pulling'
  size: number
  blockSize: number
  createdAt: string
  parent: string | null
  publisher: string
}

export type JobKind = 'import' | 'pull' | 'export'

/** A long operation running (or recently finished) in the daemon. */
export interface JobInfo {
  id: string
  kind: JobKind
  ref: string
  /** `paused`: a pull stopped by pause; resume (or sync) starts it again from the blocks already stored. */
  state: 'running' | 'paused' | 'done' | 'failed'
  done: number
  total: number
  unit: 'bytes' | 'blocks'
  /** Bytes (or blocks) per second over the last few seconds. */
  rate: number
  /** Seconds to completion at the current rate; null when unknown. */
  etaSeconds: number | null
  startedAt: string
  finishedAt?: string
  error?: { code: string, message: string }
}

export interface StatusInfo {
  peerId: string
  addresses: string[]
  publisherKey: string
  trustedPublishers: string[]
  dataDir: string
  uptimeSeconds: number
  store: {
    /** Distinct blocks held. */
    blocks: number
    /** Bytes on disk for block content (each distinct block once). */
    physicalBytes: number
    /** Sum of the sizes of all versions held: what the images would take without dedupe and holes. */
    logicalBytes: number
  }
  versions: ImageVersionInfo[]
  jobs: JobInfo[]
  connections: number
  /** Pulls are paused (POST /v1/pause): none runs and none starts until resume. Survives a daemon restart. */
  paused: boolean
  /**
   * Whether at least one configured peer is reachable (connected, or answered the last dial).
   * A node with no configured peers has nothing to reach and counts as online.
   */
  online: boolean
  /** Configured peers, and how many of them are reachable now. */
  peersConfigured: number
  peersReachable: number
  /** Versions still being pulled (catalog state `pulling`): what a sync will fetch. */
  pending: number
  /** Personal folders versioned on this node (config "personalization"); empty when none. */
  personal: PersonalStatusInfo[]
  /** The node's site, subscriptions and the swarm pulls of this run (what GET /v1/swarm answers). */
  swarm: SwarmStatusInfo
  /** NBD exports served now: reads on demand, their latency, the background pull (what GET /v1/exports answers). */
  exports: ExportInfo[]
}

export interface PeerInfo {
  peerId: string
  addresses: string[]
  connected: boolean
  /** Configured in the node's config file (as opposed to met at run time); the personal store's address counts. */
  configured: boolean
  /**
   * What the peer is: `store` is the data-center store (it serves the personal protocol, or is the
   * configured personalStore), `cachepoint` another CachePoint (it serves the image catalog),
   * `unknown` when identify has not told yet.
   */
  role: PeerRole
  /** The site label the peer sent in identify, if any. */
  site?: string
}

export type PeerRole = 'cachepoint' | 'store' | 'unknown'

export interface ImportRequest {
  file: string
  name: string
  version: string
  blockSize?: number
  /** zstd level the blocks are kept and sent at (0-19; 0: raw); default: the node's (3). */
  compressionLevel?: number
  /** Disk format of the file: raw, qcow2, vmdk or vhdx; default: detected. */
  format?: string
}

export interface ImportResultInfo {
  ref: string
  cid: string
  size: number
  blocks: number
  holes: number
  newBlocks: number
  newBytes: number
  dedupedBlocks: number
  durationMs: number
}

export interface PullRequest {
  ref: string
  /** Multiaddrs to pull from; default: the configured peers. */
  from?: string[]
}

export interface PullResultInfo {
  ref: string
  cid: string
  fetchedBlocks: number
  fetchedBytes: number
  wireBytes: number
  heldBlocks: number
  holes: number
  durationMs: number
  bytesByPeer: Record<string, number>
}

export interface ExportRequest {
  ref: string
  file: string
  overwrite?: boolean
  /** Disk format to write: raw (default), qcow2, vmdk or vhdx. */
  format?: string
}

export interface ExportResultInfo {
  ref: string
  file: string
  size: number
  durationMs: number
}

export interface DiffInfo {
  from: string
  to: string
  blockSize: number
  changedBlocks: number
  addedBlocks: number
  removedBlocks: number
  unchangedBlocks: number
  /** Distinct blocks (and their bytes) a node holding `from` must fetch to get `to`. */
  fetchBlocks: number
  fetchBytes: number
  /** Indexes of the changed blocks, ascending (the first 10,000). */
  changed?: number[]
}

export interface GcResultInfo {
  removed: number
  freedBytes: number
  kept: number
}

export interface PauseResultInfo {
  paused: true
  /** Refs of the pulls that were running and are now paused. */
  stopped: string[]
}

export interface SyncResultInfo {
  paused: boolean
  /** Refs of the pulls started (as daemon jobs; follow them with status or /v1/events). */
  started: string[]
  /** Refs already being pulled. */
  running: string[]
  /** Refs left alone, with the reason (e.g. no peer to pull from). */
  skipped: Array<{ ref: string, reason: string }>
}

/** Stops a change subscription. */
export type Unsubscribe = () => void

export type ProgressSink = (event: ProgressEvent) => void

/** What the daemon offers through the control API; the server maps routes onto it. */
export interface CachePointApi {
  status(): Promise<StatusInfo>
  images(): Promise<ImageVersionInfo[]>
  importImage(request: ImportRequest, onProgress: ProgressSink): Promise<ImportResultInfo>
  pull(request: PullRequest, onProgress: ProgressSink): Promise<PullResultInfo>
  exportImage(request: ExportRequest, onProgress: ProgressSink): Promise<ExportResultInfo>
  diff(from: string, to: string): Promise<DiffInfo>
  peers(): Promise<PeerInfo[]>
  gc(): Promise<GcResultInfo>
  /** Aborts running pulls and keeps them as paused; no pull runs until resume. */
  pause(): Promise<PauseResultInfo>
  /** Lifts the pause and restarts every interrupted or paused pull, from the blocks already stored. */
  resume(): Promise<SyncResultInfo>
  /** Catch up now: starts a pull of every version still `pulling` that no job is pulling (refused while paused). */
  sync(): Promise<SyncResultInfo>
}

/** What the daemon offers the server beyond the API calls: a signal that `status()` may have changed. */
export interface ChangeSource {
  /** Calls `onChange` (without arguments, possibly often) whenever status may have changed. */
  watch(onChange: () => void): Unsubscribe
  /** A status cheap enough to send several times a second: store figures may be a few seconds old. */
  snapshot(): Promise<StatusInfo>
}

/** The error of an answer (`{ error }`, any status but 2xx, or a stream's last line): `kind` as core's ERROR_KINDS. */
export interface ErrorBody { code: string, kind: ErrorKind, message: string }

/** One line of a streamed response (application/x-ndjson). */
export type StreamLine<T> =
  | { progress: ProgressEvent }
  | { result: T }
  | { error: ErrorBody }

/** A swarm pull (multi-source, site-aware) as status shows it: blocks, bytes by peer and site, LAN vs WAN, rate, ETA. */
export type SwarmPullInfo = SwarmPullStatus

/** What pulling a version would cost, before anything moves: missing blocks, from this site (LAN) vs over the WAN. */
export type PlanInfo = PullPlan

export interface SubscriptionInfo { name: string, policy: 'auto' | 'manual' }

/** The swarm as status shows it: this node's site label ('' when none), its subscriptions, the swarm pulls of this run. */
export interface SwarmStatusInfo {
  site: string
  subscriptions: SubscriptionInfo[]
  pulls: SwarmPullInfo[]
}

/** Swarm distribution (issue 4): optional so that other implementations of the API need not offer it. */
export interface SwarmApi {
  /** Announces a version held complete here to the image's subscribers. */
  publish(ref: string): Promise<{ ref: string, topic: string, recipients: number }>
  /** Subscribes to an image's announcements (kept in the config); `auto` pulls every new version. */
  subscribe(name: string, policy: SubscriptionInfo['policy']): Promise<SubscriptionInfo[]>
  unsubscribe(name: string): Promise<SubscriptionInfo[]>
  plan(ref: string): Promise<PlanInfo>
  /** Swarm pulls of this run, the subscriptions and the node's site. */
  swarmStatus(): Promise<SwarmStatusInfo>
  /**
   * Where versions have got to, per site, from the nodes' rollout reports: `ref`'s (its reports
   * are collected from then on), or without it the newest version of each image this node collects
   * (those it published).
   */
  rollout?(ref?: string): Promise<RolloutInfo[]>
}

/** A version's rollout: per site, nodes complete, pulling (percent), not started, offline (last seen); docs/formats/control-api.md. */
export type RolloutInfo = RolloutView

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

/** Personal folders: optional so that other implementations of the API need not offer them. */
export interface PersonalApi {
  personalStatus(): Promise<PersonalStatusInfo[]>
  personalLog(user: string): Promise<PersonalSnapshotInfo[]>
  /** Snapshots now (offline too), then sends pending snapshots if a store is configured. */
  personalSnapshot(user: string): Promise<PersonalSnapshotResultInfo>
  personalRestore(request: PersonalRestoreRequest): Promise<PersonalRestoreResultInfo>
}
