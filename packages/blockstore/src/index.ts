/**
 * @packageDocumentation
 *
 * A content-addressed block store on the local disk. Blocks are keyed by CID
 * (sha2-256); identical bytes are stored once. Blocks are appended to large
 * pack files (no file per block), an in-memory index maps each CID to its
 * place, and a commit point (`sync()`) fsyncs the packs and appends the index
 * changes to an index log. After a crash the committed index is replayed and
 * whatever was written after it is re-verified record by record. Reads
 * verify bytes against the CID: a corrupt block is never served, and is
 * dropped when found. Layout and crash argument: docs/formats/blockstore.md.
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
import type { EncodedBlock } from '@cachecloud/codec'
import { createPackBlockstore } from './pack-blockstore.js'
import type { StructureReport, VerifyOptions, VerifyReport } from './verify.js'

export interface BlockstoreInit {
  /** Directory holding the store; created if missing. */
  path: string
  /** A pack is sealed before an append would take it past this many bytes. Default: DEFAULT_PACK_BYTES. */
  packBytes?: number
  /** Read handles of packs kept open. Default: DEFAULT_OPEN_PACKS. */
  openPacks?: number
  /** gc repacks a pack whose live share of bytes is below this (0-1). Default: DEFAULT_REPACK_THRESHOLD. */
  repackThreshold?: number
  /** Start a background fdatasync of the pack every this many appended bytes (0: never), so a commit has little left to flush. Default: DEFAULT_WRITEBACK_BYTES. */
  writebackBytes?: number
  /** zstd level blocks are kept at on disk (0: raw). A block that does not shrink is kept raw. Default: DEFAULT_ZSTD_LEVEL (@cachecloud/codec). */
  compressionLevel?: number
  /**
   * Threads that compress blocks put or imported and check blocks received in
   * their stored form (putEncoded: decode, SHA-256, crc32), started on first
   * use (0: all on the calling thread). Default: all cores but one, at least one.
   */
  codecThreads?: number
}

export interface PutOptions extends AbortOptions {
  /** zstd level for this block instead of the store's (e.g. a publisher importing an image for thin WAN links once at a high level; the frame is then served as it is to every peer). 0: keep it raw (sealed, incompressible data). */
  compressionLevel?: number
  /**
   * putBytes: what this process has already computed of `bytes` on the thread
   * that made them (a sealing thread): their SHA-256, taken as the CID's
   * digest instead of hashing them again here, and their crc32, the record's
   * check when they are kept raw. The caller answers for both.
   */
  computed?: ComputedDigests
}

/** A block's SHA-256 and crc32, computed by the caller (PutOptions.computed). */
export interface ComputedDigests { sha256: Uint8Array, crc32: number }

export interface PutEncodedOptions extends AbortOptions {
  /**
   * The block's bytes are a view of a whole ArrayBuffer the caller gives away:
   * it may be moved (detached) to a codec thread for the check instead of
   * copied. The caller must not touch it afterwards.
   */
  detachable?: boolean
  /**
   * With `detachable`: the bytes' ArrayBuffer holds nothing but this block (a
   * buffer the caller keeps for received blocks), so it may be moved even
   * where the view is shorter than the buffer.
   */
  wholeBuffer?: boolean
  /**
   * Called once the store is done with the block's bytes (written, or found
   * already held), with the bytes it last held (moved back from a codec
   * thread where they went there): their buffer may be reused. Not called
   * when the put fails.
   */
  release?: (bytes: Uint8Array) => void
}

export interface BlockstoreStats {
  /** Number of distinct blocks held. */
  blocks: number
  /** Bytes of block content held (each distinct block once), decoded. */
  bytes: number
  /** Bytes the blocks take in their records (compressed where that paid). */
  storedBytes: number
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
  /** Opens the store: replays the index log, re-verifies what was written after the last commit, cuts torn pack tails. */
  start(): Promise<void>
  /** Commits pending writes (sync) and closes. */
  stop(): Promise<void>
  /** True when the block is held: committed, or written since the last commit (the next `sync()` makes it durable). Not re-verified. */
  has(cid: CID, options?: AbortOptions): Promise<boolean>
  /** The block's bytes, verified against its CID. Throws BlockNotFoundError or BlockCorruptError (the corrupt copy is dropped). */
  get(cid: CID, options?: AbortOptions): Promise<Uint8Array>
  /** The block as stored (compressed or raw), checked against its record's crc32 but not decoded: what a server sends as it is. Throws BlockNotFoundError or BlockCorruptError. */
  getEncoded(cid: CID, options?: AbortOptions): Promise<EncodedBlock>
  /** Stores a block after checking its bytes hash to `cid` (BlockCorruptError otherwise), compressed where that pays; a block already held is not rewritten. Returns true when newly written. `bytes` may be written without a copy: do not modify it until the promise settles. */
  put(cid: CID, bytes: Uint8Array, options?: PutOptions): Promise<boolean>
  /** Stores an encoded block as it is, after decoding it (bounded by its `length`) and checking the result hashes to `cid`: BlockCorruptError when it does not decode or hash. Returns true when newly written. */
  putEncoded(cid: CID, block: EncodedBlock, options?: PutEncodedOptions): Promise<boolean>
  /** Stores a raw block, computing its CID with a single SHA-256 (the importer's path), or taking it from `options.computed`. `written` is false when already held. Keep 2-4 calls in flight: hashing then overlaps the write, and concurrent appends are merged into one write. As with `put`, do not modify `bytes` until the promise settles. */
  putBytes(bytes: Uint8Array, options?: PutOptions): Promise<{ cid: CID, written: boolean }>
  /** Bytes the block takes as stored (what blocks/1.1.0 sends), from the index; undefined when not held. */
  storedSize(cid: CID): Promise<number | undefined>
  /** Removes a block; no error if absent. Durable at the next commit; the space is reclaimed by `gc`. */
  delete(cid: CID): Promise<void>
  /** Commit point: makes every block put (and deleted) so far durable: fsync of the packs written, then of the index log. */
  sync(): Promise<void>
  /** Streams the CIDs of all blocks held. */
  cids(options?: AbortOptions): AsyncIterable<CID>
  /** Blocks held and their content bytes (each distinct block once), from the index. */
  stats(options?: AbortOptions): Promise<BlockstoreStats>
  /** Deletes every block for which `isLive` returns false, then reclaims pack space (deleting dead packs, repacking sparse ones) and commits. */
  gc(isLive: (cid: CID) => boolean, options?: AbortOptions): Promise<GcResult>
  /** Structure check, no data read: every indexed block's pack present and long enough, the index log on disk as committed. Changes nothing. */
  checkStructure(options?: AbortOptions): Promise<StructureReport>
  /** Reads blocks (default: all) in pack order, decodes and hashes each against its CID; reports the damaged ones and changes nothing. */
  verify(options?: VerifyOptions): Promise<VerifyReport>
  /** Drops the entries of `damaged` blocks, commits, and rewrites the index log from the index (replacing a damaged log). */
  repair(damaged: Iterable<CID>): Promise<void>
}

export interface RecompressOptions extends AbortOptions {
  /** zstd level to keep the blocks at. */
  level: number
  /** Also try the blocks stored raw (they did not shrink at the level they were put at: random or already compressed data, seldom worth it). Default false. */
  includeRaw?: boolean
  /** After each block: how many of the distinct blocks asked for are done. */
  onProgress?: (done: number, total: number) => void
}

export interface RecompressResult {
  /** Blocks decoded, checked and encoded again (blocks stored raw are not, unless `includeRaw`). */
  examined: number
  /** Blocks whose new form was smaller, now kept in it. */
  rewritten: number
  /** Stored bytes saved (reclaimed on disk by the next gc's repack). */
  savedBytes: number
  /** Blocks asked for that are not held. */
  missing: number
  /** Blocks whose stored form did not read back, decode or hash: left for reads and verify to drop. */
  corrupt: number
}

/** The block store on the local disk: a Blockstore that can also keep blocks at another zstd level. */
export interface LocalBlockstore extends Blockstore {
  /**
   * Encodes `cids` again at `level` on a background codec thread (lowest
   * priority) and keeps each block whose new form is smaller, committed at
   * the end (and every 64 MiB rewritten). Blocks not held are counted and
   * skipped. Runs after, and before, any gc.
   */
  recompress(cids: Iterable<CID>, options: RecompressOptions): Promise<RecompressResult>
}

export function createBlockstore (init: BlockstoreInit): LocalBlockstore {
  return createPackBlockstore(init)
}

export * from './constants.js'
export * from './errors.js'
export type { StructureReport, VerifyOptions, VerifyReport } from './verify.js'
/** The on-disk format's parsers, for read-only checkers that must not recover (mutate) a store they check (`dcstore check`). */
export { decodeBatches, type Batch, type IndexOp } from './index-log.js'
export { crcMatches, headerBytesOf, isPackHeader, packFileName, packIdOf, parseRecordHeader, type RecordHeader } from './pack-format.js'
