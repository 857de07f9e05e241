import { CacheCloudError } from '@cachecloud/core'

/**
 * A `--metrics` or `--metrics-token-file` flag that cannot work. dcstore has no config
 * file, its flags are its configuration: so this is bad usage (exit 2, as the README
 * says), where the same problem in cachepoint's config file is MetricsConfigError (exit 9).
 */
export class MetricsFlagError extends CacheCloudError {
  static override name = 'MetricsFlagError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_DCSTORE_METRICS_FLAG', 'usage', options) }
}
