import { CacheCloudError } from '@cachecloud/core'

/** A metrics endpoint off loopback without a bearer token, or a token too short or unreadable. */
export class MetricsConfigError extends CacheCloudError {
  static override name = 'MetricsConfigError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_METRICS_CONFIG', 'config', options) }
}

/** The metrics endpoint's address is taken by another process. */
export class MetricsAddressInUseError extends CacheCloudError {
  static override name = 'MetricsAddressInUseError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_METRICS_ADDRESS_IN_USE', 'in-use', options) }
}

/** The metrics endpoint could not listen for another reason (not an address of this host, no permission). */
export class MetricsListenError extends CacheCloudError {
  static override name = 'MetricsListenError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_METRICS_LISTEN_FAILED', 'config', options) }
}

/** A scrape is not valid Prometheus text format. */
export class MetricsParseError extends CacheCloudError {
  static override name = 'MetricsParseError'
  constructor (message: string) { super(message, 'ERR_METRICS_PARSE', 'network') }
}
