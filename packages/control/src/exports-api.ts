/** Serving image versions as NBD exports (docs/formats/control-api.md, "Exports"). */
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
}

export interface ExportsApi {
  /** Starts an NBD export of a version (fetching what is read on demand); returns at once. */
  serve(request: ServeRequest): Promise<ExportInfo>
  exports(): Promise<ExportInfo[]>
  /** Stops the export at HOST:PORT (or PORT, or its socket's path or file name); its overlay is flushed and kept. */
  unserve(id: string): Promise<ExportInfo>
  overlays(): Promise<OverlayInfo[]>
  /** Deletes an overlay not in use. */
  discardOverlay(name: string): Promise<OverlayInfo>
}
