import { CacheCloudError, type CID } from '@cachecloud/core'

/** A sealed block or wrapped key did not authenticate: wrong key or tampered bytes. */
export class DecryptionFailedError extends CacheCloudError {
  static override name = 'DecryptionFailedError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_DECRYPTION_FAILED', 'integrity', options) }
}

/** A snapshot record, directory node or key text is malformed. */
export class InvalidPersonalFormatError extends CacheCloudError {
  static override name = 'InvalidPersonalFormatError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_PERSONAL_FORMAT', 'integrity', options) }
}

/** No snapshot matches (none yet, or none at or before the requested time). */
export class SnapshotNotFoundError extends CacheCloudError {
  static override name = 'SnapshotNotFoundError'
  constructor (message: string) { super(message, 'ERR_SNAPSHOT_NOT_FOUND', 'not-found') }
}

/** A snapshot must be sent to or read from the data-center store, and the node has none configured (config "personalization"). */
export class StoreNotConfiguredError extends CacheCloudError {
  static override name = 'StoreNotConfiguredError'
  constructor (message: string) { super(message, 'ERR_STORE_NOT_CONFIGURED', 'config') }
}

/** The path is not in the snapshot. */
export class PathNotFoundError extends CacheCloudError {
  static override name = 'PathNotFoundError'
  constructor (message: string) { super(message, 'ERR_PATH_NOT_FOUND', 'not-found') }
}

/** A restored file's content does not hash to the SHA-256 recorded at snapshot time. */
export class ContentMismatchError extends CacheCloudError {
  static override name = 'ContentMismatchError'
  constructor (message: string) { super(message, 'ERR_CONTENT_MISMATCH', 'integrity') }
}

/** The store refused a snapshot: node not enrolled, or user not enrolled with the node. */
export class ReplicationRefusedError extends CacheCloudError {
  static override name = 'ReplicationRefusedError'
  readonly reason: string
  constructor (reason: string, message: string) { super(message, 'ERR_REPLICATION_REFUSED', 'network'); this.reason = reason }
}

/** A replication message was malformed or out of order. */
export class ProtocolError extends CacheCloudError {
  static override name = 'ProtocolError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_PERSONAL_PROTOCOL', 'network', options) }
}

/** The store refused a read: node not enrolled for the user, or a block it does not hold. */
export class ReadRefusedError extends CacheCloudError {
  static override name = 'ReadRefusedError'
  readonly reason: string
  constructor (reason: string, message: string) { super(message, 'ERR_READ_REFUSED', 'network'); this.reason = reason }
}

/** The data-center store could not be reached (offline, wrong address, not running). */
export class StoreUnreachableError extends CacheCloudError {
  static override name = 'StoreUnreachableError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_STORE_UNREACHABLE', 'network', options) }
}

/** The folder looks unavailable (empty, on another device than before: a missing mount); no snapshot is taken. */
export class FolderUnavailableError extends CacheCloudError {
  static override name = 'FolderUnavailableError'
  constructor (message: string) { super(message, 'ERR_FOLDER_UNAVAILABLE', 'not-found') }
}

/** A directory block names its entries out of order or twice: a forged tree (an honest one is sorted, each name once). */
export class DirectoryOrderError extends CacheCloudError {
  static override name = 'DirectoryOrderError'
  constructor (message: string) { super(message, 'ERR_DIRECTORY_ORDER', 'integrity') }
}

/** A restore, merge or export would write through a symlink, over a special file, or outside its target folder: refused. */
export class UnsafePathError extends CacheCloudError {
  static override name = 'UnsafePathError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_UNSAFE_PATH', 'integrity', options) }
}

/** A snapshot tree holds more entries than its record says, or than MAX_TREE_ENTRIES: walked no further. */
export class TreeTooLargeError extends CacheCloudError {
  static override name = 'TreeTooLargeError'
  constructor (message: string) { super(message, 'ERR_TREE_TOO_LARGE', 'integrity') }
}

/** A sealed chunk opened but its content is malformed: unknown flag, a length beyond the chunk maximum, a zstd frame that does not decode to it. */
export class ChunkDecodeError extends CacheCloudError {
  static override name = 'ChunkDecodeError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_CHUNK_DECODE', 'integrity', options) }
}

/**
 * The user's data is sealed with another user key than this node's: a new machine without the user's key pair,
 * or a key file added to a folder first versioned without it. The message names the fix.
 */
export class UserKeyMismatchError extends CacheCloudError {
  static override name = 'UserKeyMismatchError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_USER_KEY_MISMATCH', 'config', options) }
}

/** The folder is empty and this node has no snapshot of it: not recorded (it would become the user's latest snapshot, hiding the history). */
export class EmptyFirstSnapshotError extends CacheCloudError {
  static override name = 'EmptyFirstSnapshotError'
  /** The (empty) directory block the scan sealed: the local side of a merge into the empty folder. */
  readonly root: CID
  constructor (root: CID, message: string) { super(message, 'ERR_EMPTY_FIRST_SNAPSHOT', 'not-found'); this.root = root }
}
