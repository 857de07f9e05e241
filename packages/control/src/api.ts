import type { ErrorKind, ProgressEvent } from '@cachecloud/core'
import type { ExportInfo, ExportsApi } from './exports-api.js'
import type { ImagesApi, ImageVersionInfo } from './images-api.js'
import type { PersonalApi, PersonalStatusInfo } from './personal-api.js'
import type { SwarmApi, SwarmStatusInfo } from './swarm-api.js'

export type JobKind = 'import' | 'pull' | 'export' | 'recompress'

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
  error?: { code: string, kind: ErrorKind, message: string }
}

/**
 * How far one version's arrival is, whichever way it arrives: a pull job (`image pull`, sync) or the swarm
 * (a subscription, an announcement). One per ref: the pull that counts now (one running, else the latest).
 */
export interface PullStatusInfo {
  ref: string
  via: 'job' | 'swarm'
  state: JobInfo['state']
  /** Bytes stored of the version's bytes. */
  done: number
  total: number
  rate: number
  etaSeconds: number | null
  startedAt: string
  finishedAt?: string
  error?: { message: string, code?: string, kind?: ErrorKind }
  /** Who tries again after a failure, when not sync now. */
  retry?: string
}

/** A failed pull the page and the tray show until a later success of its ref supersedes it, or the user dismisses it. */
export interface PullFailureInfo {
  /** Stable for one failure (`job:ID`, `swarm:REF:STARTED`): what a dismissal remembers. */
  id: string
  ref: string
  message: string
  /** When it failed (ISO 8601), or when its swarm pull started when no end is known. */
  at: string
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
    /** Bytes of block content held (each distinct block once), decoded. */
    physicalBytes: number
    /** What those blocks take on disk, compressed where that paid: what peers are sent. */
    storedBytes: number
    /** Recompression at rest of the versions imported here (config "restLevel"). */
    recompression: { level: number, pendingVersions: number, savedBytes: number }
    /** Sum of the sizes of all versions held: what the images would take without dedupe and holes. */
    logicalBytes: number
  }
  versions: ImageVersionInfo[]
  jobs: JobInfo[]
  /** Every version arriving or arrived in this run, one per ref, however it is pulled (jobs and the swarm merged by the daemon). */
  pulls: PullStatusInfo[]
  /** The failed pulls that still matter, newest first (see PullFailureInfo). */
  pullFailures: PullFailureInfo[]
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

/**
 * What a CachePoint offers through the control API, in helia's manner: node-wide calls
 * (status, peers, pause, resume, sync) and one named subsystem each for images, the
 * swarm, NBD exports and personal folders. Each subsystem registers its own routes.
 */
export interface CachePointApi {
  status(): Promise<StatusInfo>
  /** Configured peers and those connected now, with their role. */
  peers(): Promise<PeerInfo[]>
  /** Aborts running pulls and keeps them as paused; no pull runs until resume. */
  pause(): Promise<PauseResultInfo>
  /** Lifts the pause and restarts every interrupted or paused pull, from the blocks already stored. */
  resume(): Promise<SyncResultInfo>
  /** Catch up now: starts a pull of every version still `pulling` that no job is pulling (refused while paused). */
  sync(): Promise<SyncResultInfo>
  readonly images: ImagesApi
  readonly swarm: SwarmApi
  readonly exports: ExportsApi
  readonly personal: PersonalApi
}

/** What the daemon offers the server beyond the API calls: a signal that `status()` may have changed. */
export interface ChangeSource {
  /** Calls `onChange` (without arguments, possibly often) whenever status may have changed. */
  watch(onChange: () => void): Unsubscribe
  /** A status cheap enough to send several times a second: store figures may be a few seconds old. */
  currentStatus(): Promise<StatusInfo>
}

/** The error of an answer (`{ error }`, any status but 2xx, or a stream's last line): `kind` as core's ERROR_KINDS. */
export interface ErrorBody { code: string, kind: ErrorKind, message: string }

/** One line of a streamed response (application/x-ndjson). */
export type StreamLine<T> =
  | { progress: ProgressEvent }
  | { result: T }
  | { error: ErrorBody }
