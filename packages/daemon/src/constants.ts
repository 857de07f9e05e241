import { DEFAULT_PULL_RETRY, type RetryPolicy } from '@cachecloud/core'

/** Config file name inside a data directory. */
export const CONFIG_FILE = 'config.json'
export const PEER_KEY_FILE = 'peer.key'
export const PUBLISHER_KEY_FILE = 'publisher.pem'
export const LOCK_FILE = 'daemon.lock'
export const BLOCKS_DIR = 'store'
export const CATALOG_DIR = 'catalog'
/** Default libp2p listen address of a CachePoint: loopback only (listening beyond it needs a network key or an allow-list, or insecureOpen). */
export const DEFAULT_LISTEN_ADDRESS = '/ip4/127.0.0.1/tcp/4001'
/** Finished jobs kept in `status` for the CLI and tray to show. */
export const FINISHED_JOBS_KEPT = 20
/** Small state the daemon keeps across restarts (whether it is paused), inside the data directory. */
export const STATE_FILE = 'daemon-state.json'
/** Versions imported here whose added blocks are recompressed at rest, and at which level. */
export const RECOMPRESSED_FILE = 'recompressed.json'
/**
 * Default zstd level blocks imported here are kept at once recompressed (config "restLevel"): on a real OS
 * update, level 15 makes the delta 0.95x what casync stores for it, level 3 (the import's) 1.11x (README).
 */
export const REST_LEVEL = 15
/** How often configured peers that are not connected are dialled, to tell online from offline. */
export const PEER_PROBE_INTERVAL_MS = 10_000
/** How long one such dial may take. */
export const PEER_PROBE_TIMEOUT_MS = 5_000
/** Store figures in event-stream snapshots are refreshed in the background at most this often (a full count stats every block). */
export const STORE_STATS_MAX_AGE_MS = 5_000
/** Per-user personal-folder state (user key, scan cache, snapshot log) inside the data directory. */
export const PERSONAL_DIR = 'personal'
/** While a swarm pull runs, status listeners (the event stream) are told this often that its progress moved. */
export const SWARM_PROGRESS_TICK_MS = 1_000
/** Copy-on-write overlays of NBD exports, one directory each, under the data directory. */
export const OVERLAYS_DIR = 'overlays'
/** The background pull behind an NBD export is tried again as other background pulls are (core's DEFAULT_PULL_RETRY), but for as long as the export is served; while paused, it looks for the resume this often. */
export const EXPORT_PULL_RETRY: Readonly<RetryPolicy> = Object.freeze({ ...DEFAULT_PULL_RETRY, maxAttempts: Infinity })
/** NBD exports to serve again when the daemon starts: `[{ref, host, port, overlay?, pull, fetchTimeoutMs?}]`. */
export const EXPORTS_FILE = 'exports.json'
/** Log levels of the config's "logLevel" (pino's). */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const
/** The key of config "retention" whose policy applies to every image without one of its own. */
export const RETENTION_DEFAULT_KEY = '*'
/** Most overlays in one chain of clones (a clone of a clone of ...): each read may pass through every layer. */
export const MAX_CLONE_DEPTH = 16
/** Overlays of a pool opened (or created) at once. */
export const POOL_OPEN_CONCURRENCY = 16
/** NBD connections allowed per member of a pool (nbdcopy opens 4 to a multi-conn export; qemu 1). */
export const POOL_CONNECTIONS_PER_EXPORT = 8
/** Indexes of changed blocks a diff lists (the count is always whole). */
export const DIFF_INDEXES_LISTED = 10_000
