import { CacheCloudError } from '@cachecloud/core'

export class InvalidManifestError extends CacheCloudError {
  static override name = 'InvalidManifestError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_MANIFEST', 'integrity', options) }
}

export class UntrustedPublisherError extends CacheCloudError {
  static override name = 'UntrustedPublisherError'
  constructor (message: string) { super(message, 'ERR_UNTRUSTED_PUBLISHER', 'integrity') }
}

export class InvalidSignatureError extends CacheCloudError {
  static override name = 'InvalidSignatureError'
  constructor (message: string) { super(message, 'ERR_INVALID_SIGNATURE', 'integrity') }
}

export class InvalidPublicKeyError extends CacheCloudError {
  static override name = 'InvalidPublicKeyError'
  constructor (message: string) { super(message, 'ERR_INVALID_PUBLIC_KEY', 'usage') }
}

export class InvalidPublisherKeyFileError extends CacheCloudError {
  static override name = 'InvalidPublisherKeyFileError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_PUBLISHER_KEY_FILE', 'config', options) }
}
