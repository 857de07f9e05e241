import { CacheCloudError } from '@cachecloud/core'

/** A metrics endpoint off loopback without a bearer token, or a token too short or unreadable. */
export class MetricsConfigError extends CacheCloudError {
  static override name = 'MetricsConfigError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_METRICS_CONFIG', options) }
}

/** The metrics endpoint could not listen (address in use, not an address of this host). */
export class MetricsListenError extends CacheCloudError {
  static override name = 'MetricsListenError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_METRICS_LISTEN_FAILED', options) }
}

/** A scrape is not valid Prometheus text format. */
export class MetricsParseError extends CacheCloudError {
  static override name = 'MetricsParseError'
  constructor (message: string) { super(message, 'ERR_METRICS_PARSE') }
}
