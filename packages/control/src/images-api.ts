/** The image versions a CachePoint holds: list, import, pull, export, diff, remove, prune, gc and the integrity check (docs/formats/control-api.md). */
import type { ProgressSink } from './api.js'
import type { CheckRequest, CheckResultInfo, PruneRequest, PruneResultInfo, RemoveRequest, RemoveResultInfo } from './lifecycle-api.js'

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

/** The daemon's `images` subsystem: the versions held here and what moves them in and out. */
export interface ImagesApi {
  /** Every version held (complete or still pulling). */
  list(): Promise<ImageVersionInfo[]>
  /** Imports a disk image file as a new signed version. */
  import(request: ImportRequest, onProgress: ProgressSink): Promise<ImportResultInfo>
  /** A direct pull from the given (or configured) peers, as a daemon job. */
  pull(request: PullRequest, onProgress: ProgressSink): Promise<PullResultInfo>
  /** Writes a complete version to a file (raw, or converted to another disk format). */
  export(request: ExportRequest, onProgress: ProgressSink): Promise<ExportResultInfo>
  /** What differs between two versions held here, and what a node holding `from` must fetch. */
  diff(from: string, to: string): Promise<DiffInfo>
  /** Frees the blocks no version (and no personal snapshot) uses. */
  gc(): Promise<GcResultInfo>
  /** Removes a version (refused while in use), then gc frees the blocks no other version uses. */
  remove(request: RemoveRequest): Promise<RemoveResultInfo>
  /** Applies the config's retention policies. */
  prune(request: PruneRequest): Promise<PruneResultInfo>
  /** The integrity check (and repair); progress of the data read is streamed. */
  check(request: CheckRequest, onProgress: ProgressSink): Promise<CheckResultInfo>
}
