import { CacheCloudError } from '@cachecloud/core'

/** No peer delivered a block a read needs within the fetch timeout. */
export class BlockUnavailableError extends CacheCloudError {
  static override name = 'BlockUnavailableError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_BLOCK_UNAVAILABLE', 'network', options) }
}
