/**
 * @packageDocumentation
 *
 * A content-addressed block store on the local disk. Blocks are keyed by CID
 * (sha2-256); identical bytes are stored once. Writes go to a temporary file
 * and are renamed into place; fsyncs are batched at commit points (`sync()`),
 * and a block written after the last commit is re-verified on the next start
 * if the process died. Reads verify bytes against the CID: a corrupt block is
 * never served or counted as present. Layout and crash argument:
 * docs/formats/blockstore.md.
 *
 * @example
 * ```ts
 * const store = createBlockstore({ path: '/var/lib/cachepoint/blocks' })
 * await store.start()
 * const { cid } = await store.putBytes(bytes) // importer: hashes once
 * await store.put(cid, bytes)               // from a peer: verified against cid
 * await store.sync()          // commit point: everything put so far is durable
 * const bytes = await store.get(cid)
 * ```
 */
import type { CID } from 'multiformats/cid'
import type { AbortOptions } from '@cachecloud/core'

export interface BlockstoreInit {
  /** Directory holding the store; created if missing. */
  path: string
  /** Parallel fsyncs at a commit point. Default: DEFAULT_SYNC_CONCURRENCY. */
  syncConcurrency?: number
}

export interface BlockstoreStats {
  /** Number of distinct blocks held. */
  blocks: number
  /** Bytes of block content held (each distinct block once). */
  bytes: number
}

export interface GcResult {
  /** Blocks deleted. */
  removed: number
  /** Bytes of content freed. */
  freedBytes: number
  /** Blocks kept. */
  kept: number
}

export interface Blockstore {
  /** Opens the store: creates directories, removes temp files, re-verifies blocks left uncommitted by a crash. */
  start(): Promise<void>
  /** Commits pending writes (sync) and closes. */
  stop(): Promise<void>
  /** True when a verified (or committed) copy of the block is held. */
  has(cid: CID, options?: AbortOptions): Promise<boolean>
  /** The block's bytes, verified against its CID. Throws BlockNotFoundError or BlockCorruptError (the corrupt copy is removed). */
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array>
  /** Stores a block after checking its bytes hash to `cid` (BlockCorruptError otherwise); a block already held is not rewritten. Returns true when newly written. */
  put(cid: CID, bytes: Uint8Array, options?: AbortOptions): Promise<boolean>
  /** Stores a raw block, computing its CID with a single SHA-256 (the importer's path). `written` is false when already held. Keep 2-4 calls in flight: hashing then overlaps the write. */
  putBytes(bytes: Uint8Array, options?: AbortOptions): Promise<{ cid: CID, written: boolean }>
  /** Removes a block; no error if absent. */
  delete(cid: CID): Promise<void>
  /** Commit point: makes every block put so far durable (batched fsync of files and directories). */
  sync(): Promise<void>
  /** Streams the CIDs of all blocks held. */
  cids(options?: AbortOptions): AsyncIterable<CID>
  /** Physical space used (each distinct block once). */
  stats(options?: AbortOptions): Promise<BlockstoreStats>
  /** Deletes every block for which `isLive` returns false. */
  gc(isLive: (cid: CID) => boolean, options?: AbortOptions): Promise<GcResult>
}

export * from './constants.js'
export * from './errors.js'
export { createBlockstore } from './fs-blockstore.js'
