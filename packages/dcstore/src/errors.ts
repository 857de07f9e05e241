import { CacheCloudError } from '@cachecloud/core'

/** The audit log was edited, reordered or truncated. */
export class AuditChainBrokenError extends CacheCloudError {
  static override name = 'AuditChainBrokenError'
  constructor (message: string) { super(message, 'ERR_AUDIT_CHAIN_BROKEN', 'integrity') }
}

/** A user or peer id that cannot be enrolled (bad name). */
export class InvalidEnrollmentError extends CacheCloudError {
  static override name = 'InvalidEnrollmentError'
  constructor (message: string) { super(message, 'ERR_INVALID_ENROLLMENT', 'usage') }
}

/** Discovery needs the organization's discovery private key to open content. */
export class DiscoveryKeyRequiredError extends CacheCloudError {
  static override name = 'DiscoveryKeyRequiredError'
  constructor (message: string) { super(message, 'ERR_DISCOVERY_KEY_REQUIRED', 'usage') }
}

/** No snapshot of the user at or before the requested time. */
export class NoSnapshotError extends CacheCloudError {
  static override name = 'NoSnapshotError'
  constructor (message: string) { super(message, 'ERR_NO_SNAPSHOT', 'not-found') }
}

/** The export directory is not empty. */
export class ExportTargetNotEmptyError extends CacheCloudError {
  static override name = 'ExportTargetNotEmptyError'
  constructor (message: string) { super(message, 'ERR_EXPORT_TARGET_NOT_EMPTY', 'usage') }
}

/** Another process holds a store lock (e.g. the audit log's) for too long. */
export class LockTimeoutError extends CacheCloudError {
  static override name = 'LockTimeoutError'
  constructor (message: string) { super(message, 'ERR_LOCK_TIMEOUT', 'in-use') }
}

/** Another process (`dcstore serve`, a retention or an export) holds the data directory's lock. */
export class StoreInUseError extends CacheCloudError {
  static override name = 'StoreInUseError'
  constructor (message: string) { super(message, 'ERR_STORE_IN_USE', 'in-use') }
}

/** The data directory holds no store (a read command never creates one). */
export class NoStoreError extends CacheCloudError {
  static override name = 'NoStoreError'
  constructor (message: string) { super(message, 'ERR_NO_STORE', 'not-found') }
}

/** The peer id is not enrolled (unenroll of an unknown node). */
export class NotEnrolledError extends CacheCloudError {
  static override name = 'NotEnrolledError'
  constructor (message: string) { super(message, 'ERR_NOT_ENROLLED', 'not-found') }
}

/** An audited command needs the audit signing key (`--audit-key FILE`), which it was not given. */
export class AuditKeyRequiredError extends CacheCloudError {
  static override name = 'AuditKeyRequiredError'
  constructor (message: string) { super(message, 'ERR_AUDIT_KEY_REQUIRED', 'usage') }
}

/** The audit key file is missing, not a key, or kept inside the data directory. */
export class InvalidAuditKeyError extends CacheCloudError {
  static override name = 'InvalidAuditKeyError'
  constructor (message: string) { super(message, 'ERR_INVALID_AUDIT_KEY', 'usage') }
}

/** No matter with that id. */
export class MatterNotFoundError extends CacheCloudError {
  static override name = 'MatterNotFoundError'
  constructor (message: string) { super(message, 'ERR_MATTER_NOT_FOUND', 'not-found') }
}

/** A matter with that id exists already. */
export class MatterExistsError extends CacheCloudError {
  static override name = 'MatterExistsError'
  constructor (message: string) { super(message, 'ERR_MATTER_EXISTS', 'exists') }
}

/** A matter or hold that cannot be made as given (bad id, name, custodian, date range, glob or reason). */
export class InvalidMatterError extends CacheCloudError {
  static override name = 'InvalidMatterError'
  constructor (message: string) { super(message, 'ERR_INVALID_MATTER', 'usage') }
}

/** A query or hold in a matter names a user who is not one of its custodians. */
export class NotInMatterError extends CacheCloudError {
  static override name = 'NotInMatterError'
  constructor (message: string) { super(message, 'ERR_NOT_IN_MATTER', 'usage') }
}

/** No active hold with that id. */
export class HoldNotFoundError extends CacheCloudError {
  static override name = 'HoldNotFoundError'
  constructor (message: string) { super(message, 'ERR_HOLD_NOT_FOUND', 'not-found') }
}

/** A time argument that is not an ISO-8601 time. */
export class InvalidTimeError extends CacheCloudError {
  static override name = 'InvalidTimeError'
  constructor (message: string) { super(message, 'ERR_INVALID_DISCOVERY_TIME', 'usage') }
}

/** A text search that cannot be run as given (no words, too long, a bad filter). */
export class InvalidTextSearchError extends CacheCloudError {
  static override name = 'InvalidTextSearchError'
  constructor (message: string) { super(message, 'ERR_INVALID_TEXT_SEARCH', 'usage') }
}

/** The text index's sealed text does not open with the given discovery key. */
export class TextIndexKeyError extends CacheCloudError {
  static override name = 'TextIndexKeyError'
  constructor (message: string) { super(message, 'ERR_TEXT_INDEX_KEY', 'usage') }
}

/** A file written by an export does not hash to what its snapshot records (the disk or something on it changed it). */
export class ContentMismatchOnDiskError extends CacheCloudError {
  static override name = 'ContentMismatchOnDiskError'
  constructor (message: string) { super(message, 'ERR_EXPORT_CONTENT_MISMATCH', 'integrity') }
}

/** A block backend's configuration is unusable (unknown kind, missing bucket, a root that is not a backend of this format). */
export class BackendConfigError extends CacheCloudError {
  static override name = 'BackendConfigError'
  constructor (message: string) { super(message, 'ERR_BACKEND_CONFIG', 'usage') }
}

/** The storage refused or failed an operation after its retries (an S3 error, an I/O error on the shared path). */
export class BackendUnavailableError extends CacheCloudError {
  static override name = 'BackendUnavailableError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_BACKEND_UNAVAILABLE', 'network', options) }
}

/** The storage's object lock (WORM retention) forbids deleting the block yet. */
export class BackendWormError extends CacheCloudError {
  static override name = 'BackendWormError'
  constructor (message: string) { super(message, 'ERR_BACKEND_WORM', 'integrity') }
}

/** `check --repair` on a block backend it cannot repair (shared filesystem, S3: several processes serve it at once). */
export class RepairUnsupportedError extends CacheCloudError {
  static override name = 'RepairUnsupportedError'
  constructor (message: string) { super(message, 'ERR_REPAIR_UNSUPPORTED', 'usage') }
}

/** repair-pending.json cannot be read as the list of snapshots waiting for blocks. */
export class RepairStateError extends CacheCloudError {
  static override name = 'RepairStateError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_REPAIR_STATE', 'integrity', options) }
}
