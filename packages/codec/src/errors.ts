import { CacheCloudError } from '@cachecloud/core'

/** Encoded block bytes that do not decode, decode to another length, or would inflate beyond the bound. */
export class BlockDecodeError extends CacheCloudError {
  static override name = 'BlockDecodeError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_BLOCK_DECODE', 'integrity', options) }
}

/** A codec id this version does not know. */
export class UnknownCodecError extends CacheCloudError {
  static override name = 'UnknownCodecError'
  constructor (message: string) { super(message, 'ERR_UNKNOWN_CODEC', 'integrity') }
}
