// Defaults of on-demand reads; the blocks travel on /cachecloud/blocks/1.0.0 and holdings are asked
// on /cachecloud/have/1.0.0 (docs/formats/protocols.md); the export side is in docs/formats/nbd.md.

/** A read whose missing blocks no peer delivered within this long fails (the NBD client gets EIO). */
export const DEFAULT_FETCH_TIMEOUT_MS = 10_000
/** Peers' have answers older than this are asked again before an on-demand fetch. */
export const DEFAULT_HAVE_MAX_AGE_MS = 1_000
/** A have request of an on-demand fetch fails after this long (the peer is then not asked for blocks). */
export const HAVE_REQUEST_TIMEOUT_MS = 2_000
/** Peers fetched from at once for one read (a second one takes over at once when the first fails). */
export const MAX_SOURCES = 2
/** A block stream with blocks requested and nothing received for this long is given up (the peer hung). */
export const SESSION_SILENCE_MS = 4_000
/** The background pull resumes this long after the last read fetch ends (a sequential reader's next read comes first). */
export const HOLD_GRACE_MS = 500
/** Fetches in progress at once per device (each opens up to MAX_SOURCES block streams; peers accept 32 per connection). */
export const MAX_CONCURRENT_FETCHES = 6
/** Decoded blocks kept in memory, so that small reads inside one block hash it once. */
export const BLOCK_CACHE_ENTRIES = 32
/** Bytes fetched on demand between two commits of the block store (in the background, off the read's path). */
export const COMMIT_BYTES = 64 * 1024 * 1024
/** Latency samples kept for percentiles. */
export const LATENCY_SAMPLES = 1024
