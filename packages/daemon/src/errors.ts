import { CacheCloudError } from '@cachecloud/core'

export class ConfigError extends CacheCloudError {
  static override name = 'ConfigError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_CONFIG', 'config', options) }
}

export class NotInitializedError extends CacheCloudError {
  static override name = 'NotInitializedError'
  constructor (message: string) { super(message, 'ERR_NOT_INITIALIZED', 'daemon') }
}

export class AlreadyInitializedError extends CacheCloudError {
  static override name = 'AlreadyInitializedError'
  constructor (message: string) { super(message, 'ERR_ALREADY_INITIALIZED', 'exists') }
}

export class DataDirLockedError extends CacheCloudError {
  static override name = 'DataDirLockedError'
  constructor (message: string) { super(message, 'ERR_DATA_DIR_LOCKED', 'daemon') }
}

export class NoPeersError extends CacheCloudError {
  static override name = 'NoPeersError'
  constructor (message: string) { super(message, 'ERR_NO_PEERS', 'network') }
}

/** A personal-folder request names a user this node does not version (config "personalization"). */
export class PersonalUserNotFoundError extends CacheCloudError {
  static override name = 'PersonalUserNotFoundError'
  constructor (message: string) { super(message, 'ERR_USER_NOT_FOUND', 'not-found') }
}

/** No NBD export at that address. */
export class ExportNotFoundError extends CacheCloudError {
  static override name = 'ExportNotFoundError'
  constructor (message: string) { super(message, 'ERR_EXPORT_NOT_FOUND', 'not-found') }
}

/** No overlay of that name. */
export class OverlayNotFoundError extends CacheCloudError {
  static override name = 'OverlayNotFoundError'
  constructor (message: string) { super(message, 'ERR_OVERLAY_NOT_FOUND', 'not-found') }
}

/** The overlay is attached to a running export (stop it first). */
export class OverlayInUseError extends CacheCloudError {
  static override name = 'OverlayInUseError'
  constructor (message: string) { super(message, 'ERR_OVERLAY_IN_USE', 'in-use') }
}

/** An overlay name that is not a plain file name. */
export class InvalidOverlayNameError extends CacheCloudError {
  static override name = 'InvalidOverlayNameError'
  constructor (message: string) { super(message, 'ERR_INVALID_OVERLAY_NAME', 'usage') }
}

/** The control API port (config "controlPort") is taken by another process. */
export class ControlPortInUseError extends CacheCloudError {
  static override name = 'ControlPortInUseError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_CONTROL_PORT_IN_USE', 'in-use', options) }
}

/** A libp2p listen address (config "listen") is taken by another process. */
export class ListenAddressInUseError extends CacheCloudError {
  static override name = 'ListenAddressInUseError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_LISTEN_ADDRESS_IN_USE', 'in-use', options) }
}

/** A libp2p listen address cannot be listened on for another reason (not an address of this host, no permission). */
export class ListenFailedError extends CacheCloudError {
  static override name = 'ListenFailedError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_LISTEN_FAILED', 'config', options) }
}

/** The version is served over NBD, being pulled or exported, or is the only complete version of a subscribed image (without force). */
export class VersionInUseError extends CacheCloudError {
  static override name = 'VersionInUseError'
  constructor (message: string) { super(message, 'ERR_VERSION_IN_USE', 'in-use') }
}

/** `prune NAME` of an image that has no retention policy (config "retention"). */
export class RetentionPolicyNotFoundError extends CacheCloudError {
  static override name = 'RetentionPolicyNotFoundError'
  constructor (message: string) { super(message, 'ERR_RETENTION_POLICY_NOT_FOUND', 'not-found') }
}

/** `--read-data-subset` that is neither N/T nor P%. */
export class InvalidSubsetError extends CacheCloudError {
  static override name = 'InvalidSubsetError'
  constructor (message: string) { super(message, 'ERR_INVALID_SUBSET', 'usage') }
}

/** An overlay of that name exists already. */
export class OverlayExistsError extends CacheCloudError {
  static override name = 'OverlayExistsError'
  constructor (message: string) { super(message, 'ERR_OVERLAY_EXISTS', 'exists') }
}

/** A clone of a clone beyond MAX_CLONE_DEPTH (or a loop of parents in damaged overlays). */
export class CloneDepthError extends CacheCloudError {
  static override name = 'CloneDepthError'
  constructor (message: string) { super(message, 'ERR_CLONE_DEPTH', 'usage') }
}

/** A subsystem was asked for before start() or after stop(). */
export class DaemonNotStartedError extends CacheCloudError {
  static override name = 'DaemonNotStartedError'
  constructor (message = 'the CachePoint daemon is not started') { super(message, 'ERR_DAEMON_NOT_STARTED', 'daemon') }
}
