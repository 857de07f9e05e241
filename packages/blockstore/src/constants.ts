/** Layout version of a block store on disk; see docs/formats/blockstore.md. */
export const BLOCKSTORE_FORMAT_VERSION = 3
/** Exact contents of the format version file of a version-3 (compressed records) store. */
export const BLOCKSTORE_VERSION_TEXT = `cachecloud-blockstore ${BLOCKSTORE_FORMAT_VERSION}\n`
/** The version file of a format-2 store: its packs and log are read as they are, and the file is rewritten to format 3 at start. */
export const BLOCKSTORE_VERSION_2_TEXT = 'cachecloud-blockstore 2\n'
/** Name of the format version file, at the store's root. */
export const VERSION_FILE = 'VERSION'
/** Directory of pack files. */
export const PACKS_DIR = 'packs'
/** The append-only index log: committed index changes. */
export const INDEX_FILE = 'index.log'
/** Largest block accepted (image blocks are 256 KiB-1 MiB; manifests of big images reach a few MiB). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024
/** A pack is sealed, and a new one started, before an append would take it past this size. */
export const DEFAULT_PACK_BYTES = 128 * 1024 * 1024
/** Most bytes one positional writev appends (records queued while a write is in flight are merged up to this). */
export const MAX_APPEND_BYTES = 8 * 1024 * 1024
/** Most records in one writev (two iovecs each; Linux IOV_MAX is 1024). */
export const MAX_APPEND_RECORDS = 500
/** Bytes appended between two background writebacks (fdatasync not waited for). */
export const DEFAULT_WRITEBACK_BYTES = 32 * 1024 * 1024
/**
 * Reads of one pack asked for in the same turn (a server's read-ahead) whose
 * ranges lie within READ_GAP_BYTES of each other are joined into one
 * positional read of up to this many bytes: a 256 KiB pread cost about 2.5x
 * the CPU per byte of a 1 MiB one here (syscall, allocation, page faults).
 */
export const MAX_JOINED_READ_BYTES = 1024 * 1024
/** ...across a gap (records not asked for) of at most this many bytes. */
export const READ_GAP_BYTES = 64 * 1024
/** Read handles of packs kept open at once. */
export const DEFAULT_OPEN_PACKS = 64
/** gc rewrites a pack whose live bytes fall below this share of its size. */
export const DEFAULT_REPACK_THRESHOLD = 0.5
/** The index log is rewritten (compacted) at start or after gc once it is this large and twice its live size. */
export const INDEX_COMPACT_MIN_BYTES = 1024 * 1024
/** `verify` reads up to this many bytes of consecutive records of a pack at once. */
export const VERIFY_SPAN_BYTES = 8 * 1024 * 1024
/** ...and reads over a gap (dead records) up to this long rather than start another read. */
export const VERIFY_GAP_BYTES = 256 * 1024
/** Reads of a data check being hashed on codec threads at once (each at most VERIFY_SPAN_BYTES). */
export const VERIFY_SPANS_IN_FLIGHT = 4
