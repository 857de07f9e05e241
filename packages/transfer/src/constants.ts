import { MAX_VARINT_BYTES } from '@cachecloud/frame'
import { MAX_BLOCK_SIZE } from '@cachecloud/image'
import { MAX_MANIFEST_BYTES } from '@cachecloud/manifest'

// Protocol ids and limits; every message is specified in docs/formats/protocols.md.

/** Lists the image versions a peer holds. */
export const CATALOG_PROTOCOL = '/cachecloud/catalog/1.0.0'
/** Fetches a manifest by its CID. */
export const MANIFEST_PROTOCOL = '/cachecloud/manifest/1.0.0'
/** Fetches blocks by CID, pipelined, in batches; a block travels as it is stored: one zstd frame, or raw (docs/formats/protocols.md). */
export const BLOCKS_PROTOCOL = '/cachecloud/blocks/1.1.0'
/** The previous version: every block travels raw. Still spoken to and for peers that lack 1.1.0. */
export const BLOCKS_PROTOCOL_V1 = '/cachecloud/blocks/1.0.0'
/** Block protocols a node speaks, preferred first. */
export const DEFAULT_BLOCK_PROTOCOLS: readonly string[] = [BLOCKS_PROTOCOL, BLOCKS_PROTOCOL_V1]

/** Largest block exchanged: the largest block size an image may use. */
export const MAX_BLOCK_BYTES = MAX_BLOCK_SIZE
/** Largest binary CID accepted in any message (a sha2-256 CIDv1 is 36 bytes). */
export const MAX_CID_BYTES = 128
/** Largest block response frame: status, CID, block. */
export const MAX_FRAME_BYTES = 1 + MAX_VARINT_BYTES + MAX_CID_BYTES + MAX_BLOCK_BYTES
/** Most CIDs in one WANT request. */
export const MAX_WANTS_PER_REQUEST = 1024
/** Largest WANT request frame. */
export const MAX_REQUEST_BYTES = 1 + MAX_VARINT_BYTES + MAX_WANTS_PER_REQUEST * (1 + MAX_CID_BYTES)
/** Most wanted blocks a requester may have unanswered on one stream; a server resets a stream beyond it. */
export const MAX_OUTSTANDING_WANTS = 8192
/** Largest catalog request (type byte and an image name). */
export const MAX_CATALOG_REQUEST_BYTES = 1024
/** Largest catalog response. */
export const MAX_CATALOG_RESPONSE_BYTES = 4 * 1024 * 1024
/** Largest manifest request (type byte and a CID). */
export const MAX_MANIFEST_REQUEST_BYTES = 1 + MAX_VARINT_BYTES + MAX_CID_BYTES
/** Largest manifest response: status byte and the manifest. */
export const MAX_MANIFEST_RESPONSE_BYTES = 1 + MAX_MANIFEST_BYTES

/** Bytes of blocks requested and not yet received, per peer stream. */
export const DEFAULT_MAX_IN_FLIGHT_BYTES = 16 * 1024 * 1024
/** Target bytes of blocks per WANT request. */
export const DEFAULT_BATCH_BYTES = 2 * 1024 * 1024
/** A pull commits (blockstore.sync) after this many bytes of new blocks. */
export const DEFAULT_COMMIT_BYTES = 256 * 1024 * 1024
/** Blocks stored concurrently by a pull. */
export const DEFAULT_PUT_CONCURRENCY = 16
/** Blocks a server reads from its store ahead of sending them, per stream. */
export const DEFAULT_SERVER_READ_AHEAD = 8
/** A server joins block responses already read into one write of up to this many bytes (fewer, larger writes down the stack). */
export const COALESCE_BYTES = 1024 * 1024
/** Inbound streams per protocol per connection. */
export const DEFAULT_MAX_INBOUND_STREAMS = 32
/** A catalog or manifest request, or a silent block stream with wants outstanding, fails after this long. */
export const DEFAULT_TIMEOUT_MS = 30_000
/** Whether the catalog protocol lists versions still being pulled (their blocks are partly held). */
export const DEFAULT_ADVERTISE_PULLING = false
/** Tries of a dial and stream open before a request or block session gives up (transient refusals: see dial.ts). */
export const DIAL_ATTEMPTS = 5
/** Wait before the second try; doubled for each one after (250, 500, 1000, 2000 ms: about 4 s in all). */
export const DIAL_BACKOFF_MS = 250
/** Block sessions with one peer that may fail in a row without storing a block before a pull gives up on the peer (a protocol violation: at once). */
export const SESSION_ATTEMPTS = 3
/** Wait before starting a failed session again, times the failures in a row. */
export const SESSION_RETRY_MS = 500
