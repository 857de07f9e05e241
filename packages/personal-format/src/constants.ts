// Formats, protocol ids, limits and defaults of personal folders.
// Every format is specified byte by byte in docs/formats/personal.md.

/** Format tag of a snapshot record (plaintext dag-cbor). */
export const SNAPSHOT_FORMAT = 'cachecloud/personal-snapshot/1'
/** Format tag inside a sealed directory node. Format 5: format 4 whose file entries may say their chunks' format (`z`). */
export const DIR_FORMAT = 'cachecloud/personal-dir/5'
/** Format 4: still read (snapshots written before format 5, and unchanged directories since), never written. */
export const DIR_FORMAT_V4 = 'cachecloud/personal-dir/4'
/** The previous directory format: still read (snapshots written before format 4), never written. */
export const DIR_FORMAT_V3 = 'cachecloud/personal-dir/3'
/** Entry kinds in directory blocks (`k`). */
export const ENTRY_KIND = { file: 0, dir: 1, symlink: 2 } as const
/** Replication protocol: node offers a snapshot, store wants what it lacks. */
export const PERSONAL_PROTOCOL = '/cachecloud/personal/1.1.0'
/** 1.1.0, and a store repairing lost blocks may also want blocks of the node's earlier snapshots of the user (a block it no longer has: answered empty). */
export const PERSONAL_REPAIR_PROTOCOL = '/cachecloud/personal/1.2.0'
/** Read protocol: an enrolled node asks the store for a user's latest snapshots and their blocks. */
export const PERSONAL_READ_PROTOCOL = '/cachecloud/personal-read/1.0.0'

/** HKDF info strings: separate keys for chunk encryption and for the convergent nonce PRF. */
export const KDF_CHUNK_KEY = 'cachecloud/personal/chunk-key/1'
export const KDF_NONCE_KEY = 'cachecloud/personal/chunk-nonce/1'
export const KDF_WRAP_KEY = 'cachecloud/personal/wrap/1'
/** HKDF info deriving the key of the user's FastCDC gear table from the user key (docs/formats/personal.md#chunking). */
export const KDF_GEAR_KEY = 'cachecloud/personal/gear-key/1'
/** HKDF info prefix deriving a user key from the user's X25519 private key (then the user name). */
export const KDF_USER_KEY = 'cachecloud/personal/user-key/1'
/** HKDF info prefix deriving the user's Ed25519 snapshot-signing key from the user's X25519 private key (then the user name). */
export const KDF_SIGN_KEY = 'cachecloud/personal/sign-key/1'
/** Prefix of the bytes a snapshot record's signature covers. */
export const SIGN_CONTEXT = 'cachecloud/personal-snapshot-sig/1\0'
/** Bytes of an Ed25519 signature (a record's `sig`). */
export const RECORD_SIGNATURE_BYTES = 64
/** Bytes of a user key, an XChaCha20 nonce, a Poly1305 tag, an X25519 key. */
export const USER_KEY_BYTES = 32
export const NONCE_BYTES = 24
export const TAG_BYTES = 16
export const X25519_KEY_BYTES = 32
/** A wrapped user key: ephemeral public key, nonce, sealed 32-byte key and tag. */
export const WRAPPED_KEY_BYTES = X25519_KEY_BYTES + NONCE_BYTES + USER_KEY_BYTES + TAG_BYTES
/** Text prefix of X25519 keys in config and on the command line (then base58btc). */
export const X25519_KEY_PREFIX = 'x25519:'

/** A directory of more entries than this is split into pages. */
export const PAGE_THRESHOLD = 32
/**
 * A page ends after an entry whose keyed name hash's first byte is below 256 / PAGE_BOUNDARY_ODDS (about 1 in 16),
 * whatever the page's length, so that an insertion or deletion moves no other page's cut...
 */
export const PAGE_BOUNDARY_ODDS = 16
/** ... or after this many entries (a cut that depends on the length: the only one an edit can move). */
export const PAGE_MAX_ENTRIES = 64
/** Largest directory block (dag-cbor: links and sealed entries). */
export const MAX_DIR_BLOCK_BYTES = 16 * 1024 * 1024
/** Largest chunk (the chunker's maximum): a sealed chunk that states or holds more is refused before it is inflated. */
export const MAX_CHUNK_BYTES = 128 * 1024
/** Largest chunk block: the chunker's maximum, the format-2 flag and length (5 bytes at most), nonce and tag. */
export const MAX_CHUNK_BLOCK_BYTES = MAX_CHUNK_BYTES + 5 + NONCE_BYTES + TAG_BYTES
/**
 * Formats of sealed chunks (a file entry's `z`; absent = 1). 1: the chunk as it is, sealed (written before
 * compression; read, never written). 2: a flag byte (CHUNK_INNER), then the chunk raw or zstd-compressed, sealed.
 */
export const CHUNK_FORMAT = { plain: 1, flagged: 2 } as const
/** First byte of a format-2 chunk's sealed plaintext. */
export const CHUNK_INNER = { raw: 0, zstd: 1 } as const
/** zstd level chunks are compressed at before sealing. */
export const CHUNK_ZSTD_LEVEL = 3
/** Most entries in one directory block (a page, or a directory of up to PAGE_THRESHOLD entries); a paged top has none. */
export const MAX_BLOCK_ENTRIES = PAGE_MAX_ENTRIES
/** Most entries (files, directories, symlinks, counted per path) a walk of one snapshot tree visits: a hard bound on what a tree can make a store index or a machine restore. */
export const MAX_TREE_ENTRIES = 4_000_000
/** Largest snapshot record. */
export const MAX_RECORD_BYTES = 64 * 1024
/** Largest protocol frame (a BLOCKS message may carry one directory block). */
export const MAX_FRAME_BYTES = MAX_DIR_BLOCK_BYTES + 64 * 1024
/** Most CIDs in one WANT. */
export const MAX_WANTS = 1024
/** A node answers a WANT with BLOCKS frames of about this many bytes each. */
export const BLOCKS_FRAME_BYTES = 1024 * 1024

/** Files hashed and chunked at once during a scan. */
export const DEFAULT_SCAN_CONCURRENCY = 8
/** Full rescan period (watchers miss events). */
export const DEFAULT_SCAN_INTERVAL_MS = 10 * 60_000
/** Quiet time after a watcher event before a snapshot is taken. */
export const DEFAULT_DEBOUNCE_MS = 2_000
/** Replication retry period while the store is unreachable. */
export const DEFAULT_REPLICATE_INTERVAL_MS = 60_000
/**
 * With nothing new to send, a node offers its latest replicated snapshot again this often (and at its
 * first replication after it starts): one small exchange, in which a store that repaired lost blocks
 * asks for those of the node's earlier snapshots (protocol 1.2.0). Otherwise a folder that never
 * changes would leave the store's repair waiting for good.
 */
export const DEFAULT_REOFFER_INTERVAL_MS = 3_600_000
/** A replication stream fails after this long without progress. */
export const DEFAULT_TIMEOUT_MS = 60_000
/** Name of the per-folder state files inside the state directory (the merge base keeps its first file name, sync-base.json, which nodes already hold). */
export const STATE_FILES = { userKey: 'user.key', previousKeys: 'user.key.previous', scanCache: 'scan-cache.json', log: 'snapshots.jsonl', replicated: 'replicated.jsonl', mergeBase: 'sync-base.json' } as const
/** Conflict copies are named `<stem>.conflict-<node>-<time><ext>`; `<node>` is the last NODE_TAG_CHARS of the peer id. */
export const CONFLICT_MARKER = '.conflict-'
/** Temporary files of a restore or merge are named `.<name>` + TEMP_MARKER + pid; scans skip them, so one left by a crash is never versioned. */
export const TEMP_MARKER = '.cachecloud-tmp-'
export const NODE_TAG_CHARS = 8
/** Before calling two edits a conflict, a merge looks this many snapshots back in the remote node's history for the local version. */
export const MAX_HISTORY_SNAPSHOTS = 32
/** Status lists at most this many conflict copies (the latest). */
export const MAX_REPORTED_CONFLICTS = 20

/** Sealed blocks are ciphertext and do not compress: the block store keeps them raw without trying (compression happens before sealing, if at all). */
export const SEALED_PUT = { compressionLevel: 0 } as const
