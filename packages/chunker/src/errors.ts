import { CacheCloudError } from '@cachecloud/core'

/** Chunk sizes that cannot work: min < avg < max, avg a power of two. */
export class InvalidChunkerParamsError extends CacheCloudError {
  static override name = 'InvalidChunkerParamsError'
  constructor (message: string) { super(message, 'ERR_INVALID_CHUNKER_PARAMS', 'usage') }
}
