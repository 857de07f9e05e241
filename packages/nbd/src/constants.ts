// Magic numbers, option, reply and command codes of the NBD protocol (fixed newstyle), as
// specified in https://github.com/NetworkBlockDevice/nbd/blob/master/doc/proto.md; the subset
// spoken here is described in docs/formats/nbd.md. Limits and defaults of this server follow.

export const NBD_MAGIC = 0x4e42444d41474943n // "NBDMAGIC"
export const IHAVEOPT = 0x49484156454f5054n // "IHAVEOPT"
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n
export const REQUEST_MAGIC = 0x25609513
export const SIMPLE_REPLY_MAGIC = 0x67446698

/** Handshake flags (server). */
export const FLAG_FIXED_NEWSTYLE = 1
export const FLAG_NO_ZEROES = 2
/** Client flags. */
export const FLAG_C_FIXED_NEWSTYLE = 1
export const FLAG_C_NO_ZEROES = 2

export const OPT_EXPORT_NAME = 1
export const OPT_ABORT = 2
export const OPT_LIST = 3
export const OPT_INFO = 6
export const OPT_GO = 7

export const REP_ACK = 1
export const REP_SERVER = 2
export const REP_INFO = 3
export const REP_ERR_UNSUP = 0x80000001
export const REP_ERR_POLICY = 0x80000002
export const REP_ERR_INVALID = 0x80000003
export const REP_ERR_UNKNOWN = 0x80000006

export const INFO_EXPORT = 0
export const INFO_NAME = 1
export const INFO_DESCRIPTION = 2
export const INFO_BLOCK_SIZE = 3

/** Transmission flags. */
export const TFLAG_HAS_FLAGS = 1
export const TFLAG_READ_ONLY = 2
export const TFLAG_SEND_FLUSH = 4
export const TFLAG_SEND_FUA = 8
export const TFLAG_SEND_TRIM = 32
export const TFLAG_CAN_MULTI_CONN = 256

/** Command flags. */
export const CMD_FLAG_FUA = 1

export const CMD_READ = 0
export const CMD_WRITE = 1
export const CMD_DISC = 2
export const CMD_FLUSH = 3
export const CMD_TRIM = 4

/** Error values in replies (Linux errno numbers, as the protocol defines them). */
export const NBD_EPERM = 1
export const NBD_EIO = 5
export const NBD_ENOMEM = 12
export const NBD_EINVAL = 22
export const NBD_ENOSPC = 28
export const NBD_EOVERFLOW = 75
export const NBD_ENOTSUP = 95
export const NBD_ESHUTDOWN = 108

/** Bytes of a request header, and of a simple reply header. */
export const REQUEST_HEADER_BYTES = 28
export const REPLY_HEADER_BYTES = 16

/** Largest READ or WRITE payload accepted (qemu asks for at most 32 MiB; advertised as the maximum block size). */
export const MAX_REQUEST_BYTES = 32 * 1024 * 1024
/** Largest option payload; a longer one closes the connection (names are at most 4096 bytes by the spec). */
export const MAX_OPTION_BYTES = 64 * 1024
/** Options a client may send before choosing an export. */
export const MAX_OPTIONS = 64
/** Preferred block size advertised to clients. */
export const PREFERRED_BLOCK_SIZE = 4096
/** Requests handled at once per connection; the next is read when one finishes. */
export const DEFAULT_CONCURRENCY = 16
/** Bytes of READ and WRITE requests in progress per connection (memory bound); a larger one waits for others to finish. */
export const MAX_IN_FLIGHT_BYTES = 64 * 1024 * 1024
/** Connections served at once; more are closed at accept. */
export const DEFAULT_MAX_CLIENTS = 32
/** A client that has not finished the handshake after this long is disconnected. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000
/** Default NBD TCP port. */
export const DEFAULT_NBD_PORT = 10809

/** Overlay granularity: a write to part of a chunk copies the rest of it from the base first. */
export const OVERLAY_CHUNK_BYTES = 64 * 1024
/** `format` of an overlay's meta.json. */
export const OVERLAY_FORMAT = 'cachecloud-overlay/1'
/** Mode of an NBD Unix socket: only the daemon's user may connect. */
export const SOCKET_MODE = 0o600
/** Longest Unix socket path (sun_path is 108 bytes on Linux, with its terminating NUL). */
export const MAX_SOCKET_PATH_BYTES = 107
/** Mode of an overlay's files (meta.json, map, data: a guest's disk writes) and of its directory. */
export const OVERLAY_FILE_MODE = 0o600
export const OVERLAY_DIR_MODE = 0o700
/** Bytes per block of a pool's shared read cache (an image's default block size). */
export const DEFAULT_CACHE_BLOCK_BYTES = 256 * 1024
/** Memory budget of a pool's shared read cache. */
export const DEFAULT_CACHE_MAX_BYTES = 256 * 1024 * 1024
