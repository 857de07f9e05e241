/** Removing versions, retention and the integrity check (docs/formats/control-api.md, "Version lifecycle" and "Check"). */
import type { GcResultInfo } from './images-api.js'

export interface RemoveRequest {
  /** NAME@VERSION held here. */
  ref: string
  /** Remove it even when it is the only complete version of a subscribed image. (A version served over NBD or being pulled is always refused.) */
  force?: boolean
}

export interface RemoveResultInfo {
  ref: string
  /** Manifest CID of the version removed. */
  cid: string
  /** The gc that freed its blocks (blocks other versions share are kept); null when deferred. */
  gc: GcResultInfo | null
  /** Why gc was not run now (an import is running: its blocks are not in the catalog yet); `cachepoint image gc` later frees the space. */
  gcDeferred?: string
}

export interface PruneRequest {
  /** Say what would be removed, remove nothing. */
  dryRun?: boolean
  /** Only this image (default: every image with a retention policy). */
  name?: string
}

export interface PruneDecision {
  ref: string
  /** Why it is kept: `last 3`, `newer than 30d`, `served over NBD at ...`, `being pulled`, `only complete version of a subscribed image`, `not complete`; empty for a version removed. */
  reasons: string[]
}

export interface PruneResultInfo {
  dryRun: boolean
  /** Versions removed (or, with dryRun, that would be). */
  removed: PruneDecision[]
  kept: PruneDecision[]
  gc: GcResultInfo | null
  gcDeferred?: string
}

export interface CheckRequest {
  /** Read every block and hash it against its CID (default: presence and structure only). */
  readData?: boolean
  /** With readData, a part of the blocks: `N/T` (the N-th of T groups) or `P%` (a random P percent). */
  readDataSubset?: string
  /** Drop damaged blocks, rewrite a damaged index log, mark the affected versions incomplete and pull them again. */
  repair?: boolean
  /** Peers to repair from (multiaddrs); default: the configured peers, else the swarm. */
  from?: string[]
}

export interface VersionCheckInfo {
  ref: string
  cid: string
  state: 'complete' | 'pulling'
  manifest: string | null
  missingBlocks: number
  damagedBlocks: number
  damaged: boolean
}

export interface RepairInfo {
  /** Block entries dropped (corrupt, unreadable, damaged manifests). */
  droppedBlocks: number
  indexLogRewritten: boolean
  /** Versions pulled again, complete now. */
  repaired: string[]
  failed: Array<{ ref: string, code: string, message: string }>
  /** Problems a check after the repair still finds (structure and presence). */
  remaining: string[]
}

export interface CheckResultInfo {
  /** Nothing damaged (after a repair: nothing left damaged). */
  ok: boolean
  problems: string[]
  catalog: { versions: number, damagedRefs: Array<{ ref: string, message: string }> }
  store: { packs: number, blocks: number, missingPacks: number[], unreadableBlocks: number, indexLog: string | null }
  data: { blocks: number, storedBytes: number, rawBytes: number, corruptBlocks: number, missingBlocks: number, durationMs: number, subset?: string } | null
  versions: VersionCheckInfo[]
  damaged: string[]
  unreferencedDamagedBlocks: number
  repair?: RepairInfo
}
