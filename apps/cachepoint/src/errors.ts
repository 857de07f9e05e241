import { CacheCloudError } from '@cachecloud/core'

/** Bad command-line input. */
export class UsageError extends CacheCloudError {
  static override name = 'UsageError'
  constructor (message: string) { super(message, 'ERR_USAGE') }
}
