import { CacheCloudError } from '@cachecloud/core'

export class InvalidPeerKeyFileError extends CacheCloudError {
  static override name = 'InvalidPeerKeyFileError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_PEER_KEY_FILE', 'config', options) }
}

export class InvalidMultiaddrError extends CacheCloudError {
  static override name = 'InvalidMultiaddrError'
  constructor (message: string) { super(message, 'ERR_INVALID_MULTIADDR', 'usage') }
}

export class InvalidNetworkKeyError extends CacheCloudError {
  static override name = 'InvalidNetworkKeyError'
  constructor (message: string) { super(message, 'ERR_INVALID_NETWORK_KEY', 'usage') }
}

/** A connection of the private network reached its cipher's byte limit in one direction: it is closed, a new one starts a new key stream. */
export class PnetByteLimitError extends CacheCloudError {
  static override name = 'PnetByteLimitError'
  constructor (message: string) { super(message, 'ERR_PNET_BYTE_LIMIT', 'network') }
}

/** The private network's cipher failed on one connection (which is aborted). */
export class PnetCipherError extends CacheCloudError {
  static override name = 'PnetCipherError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_PNET_CIPHER', 'network', options) }
}

/** The host's encrypter list names an unknown encrypter, one twice, or none. */
export class InvalidEncryptersError extends CacheCloudError {
  static override name = 'InvalidEncryptersError'
  constructor (message: string) { super(message, 'ERR_INVALID_ENCRYPTERS', 'usage') }
}
