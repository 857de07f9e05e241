import { CacheCloudError } from '@cachecloud/core'

export class InvalidPeerKeyFileError extends CacheCloudError {
  static override name = 'InvalidPeerKeyFileError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_PEER_KEY_FILE', options) }
}

export class InvalidMultiaddrError extends CacheCloudError {
  static override name = 'InvalidMultiaddrError'
  constructor (message: string) { super(message, 'ERR_INVALID_MULTIADDR') }
}

export class InvalidNetworkKeyError extends CacheCloudError {
  static override name = 'InvalidNetworkKeyError'
  constructor (message: string) { super(message, 'ERR_INVALID_NETWORK_KEY') }
}

export class InvalidEncryptersError extends CacheCloudError {
  static override name = 'InvalidEncryptersError'
  constructor (message: string) { super(message, 'ERR_INVALID_ENCRYPTERS') }
}
