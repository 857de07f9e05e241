/** Layout version of a block store on disk; see docs/formats/blockstore.md. */
export const BLOCKSTORE_FORMAT_VERSION = 1
/** Exact contents of the format version file of a version-1 store. */
export const BLOCKSTORE_VERSION_TEXT = `cachecloud-blockstore ${BLOCKSTORE_FORMAT_VERSION}\n`
/** Name of the format version file, at the store's root. */
export const VERSION_FILE = 'VERSION'
/** Name of the dirty marker: present while writes since the last commit are not yet durable. */
export const DIRTY_FILE = 'DIRTY'
/** Directory of block files, one subdirectory per shard. */
export const BLOCKS_DIR = 'blocks'
/** Directory of temporary files; emptied at every start. */
export const TMP_DIR = 'tmp'
/** Characters of a shard directory name (the next-to-last two of the CID string). */
export const SHARD_CHARS = 2
/** Parallel fsyncs at a commit point (libuv's pool runs 4 at a time by default; more just queue). */
export const DEFAULT_SYNC_CONCURRENCY = 8
/** Largest block accepted (image blocks are 256 KiB-1 MiB; manifests of big images reach a few MiB). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024
/**
 * Recovery re-verifies block files modified up to this long before the dirty
 * marker was created, to absorb coarse file timestamps and small clock steps.
 */
export const DIRTY_CLOCK_SLACK_MS = 60_000
