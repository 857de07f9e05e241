/**
 * Limits and defaults of images and the catalog. Formats: docs/formats/image.md.
 */

/** Smallest block size an image may use (one ext4/NTFS cluster). */
export const MIN_BLOCK_SIZE = 4 * 1024
/** Largest block size an image may use. */
export const MAX_BLOCK_SIZE = 16 * 1024 * 1024
/**
 * Default bytes per block, from bench/src/block-size.ts (512 MiB ext4 image, an
 * update writing 19.8 MiB of files): 256 KiB fetches 1.25x the bytes written
 * (64 KiB: 1.07x, 1 MiB: 1.87x, 4 MiB: 3.84x), its manifest is 39 KiB per
 * 512 MiB (about 1.5 MiB for 20 GiB; 64 KiB: 4x that), and it imports about
 * twice as fast as 64 KiB, whose cost is per block (one file, one hash, one
 * request each).
 */
export const DEFAULT_BLOCK_SIZE = 256 * 1024

/** Bytes of read buffers an import or export keeps in flight (at least 2 blocks, at most 16). */
export const DEFAULT_PIPELINE_BYTES = 16 * 1024 * 1024
/** Most blocks in flight at once in an import or export, whatever the block size. */
export const MAX_PIPELINE_BLOCKS = 16
/** Fewest blocks in flight at once (keeps reading and writing overlapped with huge blocks). */
export const MIN_PIPELINE_BLOCKS = 2
/** Parallel `has()` calls of missingBlocks. */
export const DEFAULT_HAS_CONCURRENCY = 32
/** Least time between two progress events of one import or export (the last one is always sent). */
export const PROGRESS_INTERVAL_MS = 100

/** Directory of ref files inside the catalog path. */
export const CATALOG_REFS_DIR = 'refs'
/** Version of the catalog's ref file format. */
export const CATALOG_FORMAT_VERSION = 1

/** Longest `qemu-img info` may take on one file before it is judged unreadable. */
export const QEMU_INFO_TIMEOUT_MS = 30_000
/** Most bytes of `qemu-img info --output=json` read (a VMDK lists its extents). */
export const QEMU_INFO_MAX_BYTES = 1024 * 1024
/** Most bytes of a conversion tool's stderr kept for its error message. */
export const TOOL_STDERR_MAX_BYTES = 4096
