// Data-center store: data directory layout, limits and defaults.
// Formats: docs/formats/personal.md#store, docs/formats/dcstore.md (audit log, check).

export { PERSONAL_PROTOCOL } from '@cachecloud/personal-format'

/** Files and directories in the store's data directory. */
export const STORE_FILES = {
  blocks: 'blocks',
  index: 'index.sqlite',
  enrollment: 'enrollment.json',
  audit: 'audit.jsonl',
  auditHead: 'audit.head',
  peerKey: 'peer.key',
  /** The data-directory lock (pid), held by the process that opens the block stores. */
  lock: 'store.lock',
  /** Held while a legal hold is placed and while retention decides what no hold needs and removes it: a hold placed meanwhile is never lost. */
  holdsLock: 'holds.lock',
  /** One marker per serving process of a store on a multi-writer backend (`<host>-<pid>.lock`). */
  serving: 'serving',
  /** Snapshots `check --repair` left lacking blocks, until their node's replication re-sends them (docs/formats/dcstore.md#repair). */
  repairs: 'repair-pending.json'
} as const
/** Format tag of repair-pending.json. */
export const REPAIR_FORMAT = 'cachecloud/dcstore-repair-pending/1'
/** Most snapshots repair-pending.json may list (a longer file is damage, not read). */
export const MAX_PENDING_REPAIRS = 1_000_000
/** User names: also a directory name under blocks/. */
export const USER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/
/** Inbound replication streams per connection. */
export const DEFAULT_MAX_INBOUND_STREAMS = 8
/** A replication stream fails after this long without a message. */
export const DEFAULT_TIMEOUT_MS = 60_000
/** Format tag of the export manifest. */
export const EXPORT_FORMAT = 'cachecloud/discovery-export/1'
/** Hash of the (empty) chain before the first audit entry. */
export const AUDIT_GENESIS = '0'.repeat(64)
/** Version of the audit entries written (2: signed, intent and outcome). */
export const AUDIT_VERSION = 2
/** Format tag of an audit key file. */
export const AUDIT_KEY_FORMAT = 'cachecloud/audit-key/1'
/** Domain separation of what the audit key signs. */
export const AUDIT_SIG_ENTRY = 'cachecloud-audit-entry/2\n'
export const AUDIT_SIG_HEAD = 'cachecloud-audit-head/2\n'
/** Longest audit line read back (a line past it is damage, not an entry). */
export const MAX_AUDIT_LINE_BYTES = 1024 * 1024
/** The store makes received blocks durable (blockstore.sync) after this many bytes: what a cut replication does not resend. */
export const DEFAULT_COMMIT_BYTES = 4 * 1024 * 1024
/** Invalid snapshots the replication server remembers, to refuse a re-offer without walking it again. */
export const MAX_REJECTED_SNAPSHOTS = 1024
/** How far in the future a node's snapshot time may be (clock skew) before the store refuses it. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000
/** Deepest directory nesting `check` walks (deeper is reported as damage). */
export const CHECK_MAX_DEPTH = 1024
/** CIDs listed per damage item in a check report (the count is always given). */
export const CHECK_MAX_LISTED = 20
/** Matter ids (what counsel types: `--matter ID`). */
export const MATTER_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/
/** Longest matter name, hold reason and path glob accepted. */
export const MAX_MATTER_NAME = 200
export const MAX_HOLD_REASON = 1000
export const MAX_HOLD_GLOB = 1024
/** Most custodians of one matter. */
export const MAX_MATTER_CUSTODIANS = 1000
/** Text index: files larger than this are not read for text (listed as too large). */
export const DEFAULT_TEXT_MAX_FILE_BYTES = 64 * 1024 * 1024
/** Text index: one file's extraction is stopped after this long (listed as timed out). */
export const DEFAULT_TEXT_TIMEOUT_MS = 30_000
/** Text index: at most this many characters of one file's text are indexed (more: listed as truncated). */
export const MAX_TEXT_CHARS = 500_000
/** OOXML/ODF packages: most zip entries, and most bytes the text parts may inflate to. */
export const MAX_ZIP_ENTRIES = 10_000
export const MAX_ZIP_INFLATED_BYTES = 256 * 1024 * 1024
/** Memory of the extraction worker (MiB of V8 heap). */
export const TEXT_WORKER_HEAP_MB = 512
/** Contents read and indexed per batch (one transaction each: a crash loses at most one batch's work). */
export const TEXT_BATCH = 128
/** How often a serving store looks for snapshots whose text is not yet indexed. */
export const TEXT_FOLLOW_INTERVAL_MS = 5_000
/** Longest search text, most phrases in it, and most results. */
export const MAX_SEARCH_TEXT = 1000
export const MAX_SEARCH_PHRASES = 32
export const DEFAULT_SEARCH_LIMIT = 1000
/** Not-indexed file versions listed with a search (all are counted). */
export const MAX_LISTED_NOT_INDEXED = 1000
/** Format tags of a review export's manifest and chain-of-custody report. */
export const REVIEW_EXPORT_FORMAT = 'cachecloud/review-export/1'
/** Files of a review export beside NATIVES/. */
export const REVIEW_FILES = { natives: 'NATIVES', loadFile: 'LOADFILE.dat', manifest: 'MANIFEST.json', sums: 'SHA256SUMS', custody: 'CUSTODY.txt' } as const
/** Largest block a backend stores or reads back (a directory block's bound; a chunk is smaller): an object past it is refused before it is read. */
export const MAX_BACKEND_BLOCK_BYTES = 16 * 1024 * 1024
/** Layout of the shared-filesystem backend under its root (docs/formats/dcstore.md#block-backends). */
export const SHARED_FS_FILES = { version: 'VERSION', blocks: 'blocks', objects: 'objects', tmp: 'tmp' } as const
export const SHARED_FS_VERSION = 'cachecloud/dcstore-shared-fs/1\n'
/** A lock file held by a process on another host is stale when not refreshed for this long (its holder refreshes it every third of it). */
export const FOREIGN_LOCK_STALE_MS = 60_000
/** S3: blocks larger than this are uploaded in parts (multipart upload) of S3_PART_BYTES (S3's least part size is 5 MiB). */
export const S3_MULTIPART_BYTES = 8 * 1024 * 1024
export const S3_PART_BYTES = 5 * 1024 * 1024
/** S3: attempts per request (the SDK's standard retry mode: exponential backoff with jitter) before BackendUnavailableError. */
export const S3_MAX_ATTEMPTS = 6
/** S3: a request fails after this long without an answer (then it is retried). */
export const S3_REQUEST_TIMEOUT_MS = 30_000
export const S3_CONNECT_TIMEOUT_MS = 5_000
/** S3: requests in flight per store process (the SDK's socket pool). */
export const S3_MAX_SOCKETS = 32
/** PostgreSQL advisory-lock key the store processes sharing one database append to the audit log under ('dcau'). */
export const AUDIT_PG_LOCK_KEY = 0x64636175
/** Block lookups and puts the replication server keeps in flight per stream (an object store's latency is per request). */
export const BACKEND_CONCURRENCY = 16
/** S3: how long, and for how many keys, a lookup that found a block absent spares the put's own lookup. */
export const S3_ABSENT_TTL_MS = 60_000
export const S3_ABSENT_MAX = 100_000
/** PostgreSQL advisory-lock key held while a store process creates the index schema ('dcix'): processes starting at once on a new database would race on CREATE TABLE. */
export const INDEX_PG_LOCK_KEY = 0x64636978
/** PostgreSQL advisory-lock key held while a legal hold is placed and while retention decides and removes ('dcho'), beside the holds lock file. */
export const HOLDS_PG_LOCK_KEY = 0x6463686f
