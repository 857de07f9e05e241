import type { ErrorKind } from './error-kinds.js'

/**
 * Base of every CacheCloud error: a stable `name` and `code` (unique across the
 * project) that tests assert on, and a `kind` (see error-kinds.ts) from which the
 * CLIs' exit codes and the APIs' HTTP statuses are derived. The kind is a required
 * argument, so a class without one does not compile.
 */
export class CacheCloudError extends Error {
  static override name = 'CacheCloudError'
  readonly code: string
  readonly kind: ErrorKind

  constructor (message: string, code: string, kind: ErrorKind, options?: ErrorOptions) {
    super(message, options)
    this.code = code
    this.kind = kind
    this.name = (new.target as { name: string }).name
  }
}

export class InvalidVersionRefError extends CacheCloudError {
  static override name = 'InvalidVersionRefError'
  constructor (message: string) { super(message, 'ERR_INVALID_VERSION_REF', 'usage') }
}

export class InvalidCidError extends CacheCloudError {
  static override name = 'InvalidCidError'
  constructor (message: string) { super(message, 'ERR_INVALID_CID', 'usage') }
}

/** A file the operation would create exists already and is not overwritten. */
export class FileExistsError extends CacheCloudError {
  static override name = 'FileExistsError'
  constructor (message: string) { super(message, 'ERR_FILE_EXISTS', 'exists') }
}

/** True when `err` is a CacheCloudError (or carries the same shape across package copies). */
export function isCacheCloudError (err: unknown): err is CacheCloudError {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string'
}
