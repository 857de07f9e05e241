/** Serving image versions as NBD exports (docs/formats/control-api.md, "Exports"). */
import type { ProgressEvent } from '@cachecloud/core'
import type { ImageDeviceStats } from '@cachecloud/ondemand'

export interface ServeRequest {
  /** NAME@VERSION: held here, pulling, or offered by a peer. */
  ref: string
  /** TCP listen address, with `port`; default 127.0.0.1. */
  host?: string
  /**
   * Serve on TCP at this port (0 lets the OS choose). Without it the export is
   * served on a Unix socket (mode 0600) in the data directory: NBD has no
   * authentication, so TCP only when asked.
   */
  port?: number
  /** Name of a copy-on-write overlay (created if missing): the export is writable, writes go there. */
  overlay?: string
  /** Pull the rest of the version in the background while serving (default true). */
  pull?: boolean
  /** A read whose missing blocks no peer delivers within this long fails with EIO. Default 10 s. */
  fetchTimeoutMs?: number
  /**
   * Serve `count` writable exports instead of one, named PREFIX-1 ... PREFIX-count on one
   * NBD listener, each with its own overlay (of that name), over one shared read cache.
   */
  pool?: { count: number, prefix: string }
}

/** A pool's members and its shared read cache. */
export interface PoolInfo {
  prefix: string
  count: number
  /** NBD export names (also the overlays' names), and each one's URI. */
  members: Array<{ name: string, uri: string }>
  /** Shared read cache in front of the version: blocks read from the store once while cached. */
  cache: { hits: number, misses: number, baseReadBytes: number, cachedBytes: number, maxBytes: number }
  /** Time to make the pool's overlays ready, in ms. */
  readyMs: number
}

export interface CommitOverlayRequest {
  /** Overlay whose writes (on top of its version, through its parent overlays) become the new version. */
  name: string
  /** NAME@VERSION of the new version (must not exist). */
  ref: string
  /** Announce it to subscribers once committed. */
  publish?: boolean
}

export interface CommitResultInfo {
  ref: string
  cid: string
  /** The version the overlay was made over: the new version's parent. */
  parent: string
  parentCid: string
  overlay: string
  blocks: number
  /** Blocks that hold a write: the only ones read and hashed. */
  writtenBlocks: number
  holes: number
  dedupedBlocks: number
  newBlocks: number
  newBytes: number
  published: boolean
  durationMs: number
}

export interface RebaseOverlayRequest {
  name: string
  /** NAME@VERSION to move the overlay onto. */
  ref: string
  /** Must be true: the writes are dropped (a rebase that keeps them is not offered). */
  discardWrites: boolean
}

/** Reads through one export: local, on demand (fetched from peers), holes; on-demand latency. */
export type ExportReadStats = ImageDeviceStats

/** The version behind an export: arrived blocks, and the background pull filling in the rest. */
export interface ExportBackground {
  /** `off`: serving only what is read (pull: false); `complete`: every read is local. */
  state: 'complete' | 'resolving' | 'pulling' | 'paused' | 'failed' | 'off'
  blocksDone: number
  blocksTotal: number
  bytesDone: number
  bytesTotal: number
  rate: number
  etaSeconds: number | null
  error?: string
}

export interface ExportInfo {
  /** HOST:PORT, or the socket's path: what unserve takes. */
  id: string
  ref: string
  /** Manifest CID. */
  cid: string
  /** e.g. nbd+unix:///?socket=/var/lib/cachepoint/nbd/win11@v2.sock or nbd://127.0.0.1:10809 (the export is also served under the empty name). */
  uri: string
  /** TCP address; '' and 0 on a Unix socket. */
  host: string
  port: number
  /** The Unix socket's path (mode 0600), or null on TCP. */
  socket: string | null
  size: number
  writable: boolean
  overlay: string | null
  /** A pool of writable exports on this listener, or null. */
  pool: PoolInfo | null
  /** Clients connected now, and connections since start. */
  clients: number
  connections: number
  startedAt: string
  reads: ExportReadStats
  background: ExportBackground
}

export interface OverlayInfo {
  name: string
  /** NAME@VERSION of the base image. */
  ref: string
  baseCid: string
  size: number
  /** Bytes of written chunks. */
  writtenBytes: number
  createdAt: string
  /** The export using it now, if any (HOST:PORT). */
  inUseBy: string | null
  /** The overlay whose state this one was cloned from, or null (made over the version). */
  parent: string | null
  /** The base of clones: read-only from then on. */
  frozen: boolean
  /** Overlays cloned from this one. */
  clones: string[]
}

/** The daemon's `exports` subsystem: NBD exports and their copy-on-write overlays. */
export interface ExportsApi {
  /** Starts an NBD export of a version (fetching what is read on demand); returns at once. */
  serve(request: ServeRequest): Promise<ExportInfo>
  /** The exports served now. */
  list(): Promise<ExportInfo[]>
  /** Stops the export at HOST:PORT (or PORT, or its socket's path or file name); its overlay is flushed and kept. */
  unserve(id: string): Promise<ExportInfo>
  overlays(): Promise<OverlayInfo[]>
  /** Deletes an overlay not in use and not the base of a clone. */
  discardOverlay(name: string): Promise<OverlayInfo>
  /** Makes a new version of an overlay not in use: its written blocks on top of its version. */
  commitOverlay(request: CommitOverlayRequest, onProgress: (event: ProgressEvent) => void): Promise<CommitResultInfo>
  /** A clone of an overlay's current state (the source is frozen and becomes a shared layer). */
  cloneOverlay(request: { from: string, name: string }): Promise<OverlayInfo>
  /** Moves an overlay not in use to another version, dropping its writes. */
  rebaseOverlay(request: RebaseOverlayRequest): Promise<OverlayInfo>
}
