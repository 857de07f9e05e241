// Chunking parameters. They decide chunk boundaries, hence chunk CIDs and
// deduplication: changing any of them is a format change
// (docs/formats/personal.md#chunking).

/** Name and version of the chunking algorithm, recorded in every snapshot. */
export const CHUNKER_ID = 'fastcdc-gear32-v1'
/** The same algorithm over a gear table keyed by a secret (keyedGear): boundaries no one without the key can predict. */
export const CHUNKER_KEYED_ID = 'fastcdc-gear32-keyed-v1'
/** Smallest chunk (except a file's last). */
export const DEFAULT_MIN_SIZE = 8 * 1024
/** Target average chunk size: a power of two. */
export const DEFAULT_AVG_SIZE = 32 * 1024
/** Largest chunk: a cut is forced here. */
export const DEFAULT_MAX_SIZE = 128 * 1024
/** Bytes read from a file at a time while chunking it. */
export const DEFAULT_READ_SIZE = 1024 * 1024
/** Seed of the gear table: entry i is the first 4 bytes (big-endian) of SHA-256(seed || uint32be(i)). */
export const GEAR_SEED = 'cachecloud/fastcdc/gear/1'
/** HKDF info of a keyed gear table (its 1024 bytes are the 256 entries, big-endian). */
export const GEAR_KEYED_INFO = 'cachecloud/fastcdc/gear-keyed/1'
