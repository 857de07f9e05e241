import { CacheCloudError } from '@cachecloud/core'

export class ConfigError extends CacheCloudError {
  static override name = 'ConfigError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_CONFIG', options) }
}

export class NotInitializedError extends CacheCloudError {
  static override name = 'NotInitializedError'
  constructor (message: string) { super(message, 'ERR_NOT_INITIALIZED') }
}

export class AlreadyInitializedError extends CacheCloudError {
  static override name = 'AlreadyInitializedError'
  constructor (message: string) { super(message, 'ERR_ALREADY_INITIALIZED') }
}

export class DataDirLockedError extends CacheCloudError {
  static override name = 'DataDirLockedError'
  constructor (message: string) { super(message, 'ERR_DATA_DIR_LOCKED') }
}

export class NoPeersError extends CacheCloudError {
  static override name = 'NoPeersError'
  constructor (message: string) { super(message, 'ERR_NO_PEERS') }
}

/** A personal-folder request names a user this node does not version (config "personalization"). */
export class PersonalUserNotFoundError extends CacheCloudError {
  static override name = 'PersonalUserNotFoundError'
  constructor (message: string) { super(message, 'ERR_USER_NOT_FOUND') }
}
