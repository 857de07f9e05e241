import { isCacheCloudError } from '@cachecloud/core'

/** Same scheme as the cachepoint CLI. */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 4, integrity: 6, network: 7, inUse: 11 } as const

const BY_CODE: Record<string, number> = {
  ERR_AUDIT_CHAIN_BROKEN: EXIT.integrity,
  ERR_AUDIT_KEY_REQUIRED: EXIT.usage,
  ERR_INVALID_AUDIT_KEY: EXIT.usage,
  ERR_CONTENT_MISMATCH: EXIT.integrity,
  ERR_DECRYPTION_FAILED: EXIT.integrity,
  ERR_NO_SNAPSHOT: EXIT.notFound,
  ERR_NO_STORE: EXIT.notFound,
  ERR_NOT_ENROLLED: EXIT.notFound,
  ERR_STORE_IN_USE: EXIT.inUse,
  ERR_LOCK_TIMEOUT: EXIT.inUse,
  ERR_DIRECTORY_ORDER: EXIT.integrity,
  ERR_UNSAFE_PATH: EXIT.integrity,
  ERR_TREE_TOO_LARGE: EXIT.integrity,
  ERR_SNAPSHOT_NOT_FOUND: EXIT.notFound,
  ERR_INVALID_ENROLLMENT: EXIT.usage,
  ERR_INVALID_PERSONAL_FORMAT: EXIT.usage,
  ERR_DISCOVERY_KEY_REQUIRED: EXIT.usage,
  ERR_EXPORT_TARGET_NOT_EMPTY: EXIT.usage,
  ERR_INVALID_METRICS_CONFIG: EXIT.usage,
  ERR_METRICS_LISTEN_FAILED: EXIT.inUse,
  ERR_BACKEND_CONFIG: EXIT.usage,
  ERR_BACKEND_UNAVAILABLE: EXIT.network,
  ERR_BACKEND_WORM: EXIT.integrity
}

export function exitCodeFor (err: unknown): number {
  if (isCacheCloudError(err)) return BY_CODE[err.code] ?? EXIT.failure
  if ((err as NodeJS.ErrnoException)?.code === 'ENOENT') return EXIT.notFound
  return EXIT.failure
}
