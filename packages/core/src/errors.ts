/**
 * Base of every CacheCloud error: a stable `name` and `code` that the CLI maps
 * to one-line messages and exit codes, and that tests assert on.
 */
export class CacheCloudError extends Error {
  static override name = 'CacheCloudError'
  readonly code: string

  constructor (message: string, code: string, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.name = (new.target as { name: string }).name
  }
}

export class InvalidVersionRefError extends CacheCloudError {
  static override name = 'InvalidVersionRefError'
  constructor (message: string) { super(message, 'ERR_INVALID_VERSION_REF') }
}

export class InvalidCidError extends CacheCloudError {
  static override name = 'InvalidCidError'
  constructor (message: string) { super(message, 'ERR_INVALID_CID') }
}

/** True when `err` is a CacheCloudError (or carries the same shape across package copies). */
export function isCacheCloudError (err: unknown): err is CacheCloudError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string'
}
