import { CacheCloudError } from '@cachecloud/core'

/** The audit log was edited, reordered or truncated. */
export class AuditChainBrokenError extends CacheCloudError {
  static override name = 'AuditChainBrokenError'
  constructor (message: string) { super(message, 'ERR_AUDIT_CHAIN_BROKEN') }
}

/** A user or peer id that cannot be enrolled (bad name). */
export class InvalidEnrollmentError extends CacheCloudError {
  static override name = 'InvalidEnrollmentError'
  constructor (message: string) { super(message, 'ERR_INVALID_ENROLLMENT') }
}

/** Discovery needs the organization's discovery private key to open content. */
export class DiscoveryKeyRequiredError extends CacheCloudError {
  static override name = 'DiscoveryKeyRequiredError'
  constructor (message: string) { super(message, 'ERR_DISCOVERY_KEY_REQUIRED') }
}

/** No snapshot of the user at or before the requested time. */
export class NoSnapshotError extends CacheCloudError {
  static override name = 'NoSnapshotError'
  constructor (message: string) { super(message, 'ERR_NO_SNAPSHOT') }
}

/** The export directory is not empty. */
export class ExportTargetNotEmptyError extends CacheCloudError {
  static override name = 'ExportTargetNotEmptyError'
  constructor (message: string) { super(message, 'ERR_EXPORT_TARGET_NOT_EMPTY') }
}

/** Another process holds a store lock (e.g. the audit log's) for too long. */
export class LockTimeoutError extends CacheCloudError {
  static override name = 'LockTimeoutError'
  constructor (message: string) { super(message, 'ERR_LOCK_TIMEOUT') }
}

/** Another process (`dcstore serve`, a retention or an export) holds the data directory's lock. */
export class StoreInUseError extends CacheCloudError {
  static override name = 'StoreInUseError'
  constructor (message: string) { super(message, 'ERR_STORE_IN_USE') }
}

/** The data directory holds no store (a read command never creates one). */
export class NoStoreError extends CacheCloudError {
  static override name = 'NoStoreError'
  constructor (message: string) { super(message, 'ERR_NO_STORE') }
}

/** The peer id is not enrolled (unenroll of an unknown node). */
export class NotEnrolledError extends CacheCloudError {
  static override name = 'NotEnrolledError'
  constructor (message: string) { super(message, 'ERR_NOT_ENROLLED') }
}

/** An audited command needs the audit signing key (`--audit-key FILE`), which it was not given. */
export class AuditKeyRequiredError extends CacheCloudError {
  static override name = 'AuditKeyRequiredError'
  constructor (message: string) { super(message, 'ERR_AUDIT_KEY_REQUIRED') }
}

/** The audit key file is missing, not a key, or kept inside the data directory. */
export class InvalidAuditKeyError extends CacheCloudError {
  static override name = 'InvalidAuditKeyError'
  constructor (message: string) { super(message, 'ERR_INVALID_AUDIT_KEY') }
}

/** A block backend's configuration is unusable (unknown kind, missing bucket, a root that is not a backend of this format). */
export class BackendConfigError extends CacheCloudError {
  static override name = 'BackendConfigError'
  constructor (message: string) { super(message, 'ERR_BACKEND_CONFIG') }
}

/** The storage refused or failed an operation after its retries (an S3 error, an I/O error on the shared path). */
export class BackendUnavailableError extends CacheCloudError {
  static override name = 'BackendUnavailableError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_BACKEND_UNAVAILABLE', options) }
}

/** The storage's object lock (WORM retention) forbids deleting the block yet. */
export class BackendWormError extends CacheCloudError {
  static override name = 'BackendWormError'
  constructor (message: string) { super(message, 'ERR_BACKEND_WORM') }
}
