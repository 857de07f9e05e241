import { isCacheCloudError } from '@cachecloud/core'

/** Exit codes of the `cachepoint` CLI; documented in the README. */
export const EXIT = {
  ok: 0,
  failure: 1,
  usage: 2,
  daemon: 3,
  notFound: 4,
  exists: 5,
  integrity: 6,
  network: 7,
  diskFull: 8,
  config: 9,
  paused: 10,
  inUse: 11,
  missingTool: 12
} as const

const BY_CODE: Array<[RegExp, number]> = [
  [/^ERR_(DAEMON_UNREACHABLE|DAEMON_GONE|NOT_INITIALIZED|DATA_DIR_LOCKED|UNAUTHORIZED)$/, EXIT.daemon],
  [/^ERR_(INVALID_CONFIG|INVALID_PEER_KEY_FILE|INVALID_PUBLISHER_KEY_FILE|LISTEN_FAILED|INVALID_METRICS_CONFIG|METRICS_LISTEN_FAILED|USER_KEY_MISMATCH)$/, EXIT.config],
  [/^ERR_DISK_FULL$/, EXIT.diskFull],
  [/^ERR_DISK_TOOL_MISSING$/, EXIT.missingTool],
  [/^ERR_UNSUPPORTED_DISK_FORMAT$/, EXIT.usage],
  [/^ERR_(PAUSED|PULL_PAUSED)$/, EXIT.paused],
  [/^ERR_(ADDRESS_IN_USE|CONTROL_PORT_IN_USE|LISTEN_ADDRESS_IN_USE|OVERLAY_IN_USE|OVERLAY_FROZEN|OVERLAY_MISMATCH|VERSION_IN_USE)$/, EXIT.inUse],
  [/NOT_FOUND$|^ERR_IMAGE_FILE$|^ERR_VERSION_INCOMPLETE$|^ERR_VERSION_UNAVAILABLE$|^ERR_EMPTY_FIRST_SNAPSHOT$/, EXIT.notFound],
  [/EXISTS$|^ERR_ALREADY_INITIALIZED$/, EXIT.exists],
  [/^ERR_(INVALID_MANIFEST|UNTRUSTED_PUBLISHER|INVALID_SIGNATURE|BLOCK_CORRUPT|CORRUPT_MANIFEST|DECRYPTION_FAILED|CONTENT_MISMATCH|INVALID_PERSONAL_FORMAT|CORRUPT_IMAGE_FILE)$/, EXIT.integrity],
  [/^ERR_(PULL_FAILED|NO_PEERS|PEER_MISBEHAVED|DIAL_FAILED|REPLICATION_REFUSED|PERSONAL_PROTOCOL)$/, EXIT.network],
  [/^ERR_(USAGE|BAD_REQUEST|INVALID_.*)$/, EXIT.usage]
]

export function exitCodeFor (err: unknown): number {
  if (!isCacheCloudError(err)) return EXIT.failure
  for (const [pattern, code] of BY_CODE) if (pattern.test(err.code)) return code
  return EXIT.failure
}
