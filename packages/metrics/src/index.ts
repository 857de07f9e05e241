/**
 * @packageDocumentation
 *
 * Prometheus metrics of a CachePoint or a dcstore: the instruments (bytes in and
 * out by peer site and LAN/WAN, blocks stored and served, pulls by state, pull
 * and NBD read latency, store size, personal snapshots pending, errors by code),
 * collected with prom-client, and the endpoint serving them. The endpoint listens
 * on loopback unless configured; anywhere else it needs a bearer token.
 * Metric names: docs/metrics.md.
 *
 * @example
 * ```ts
 * const metrics = createNodeMetrics()
 * metrics.onCollect(async () => { metrics.storeBytes.set((await store.stats()).physicalBytes) })
 * const server = createMetricsServer({ metrics, host: '127.0.0.1', port: 9464 })
 * await server.start()          // curl http://127.0.0.1:9464/metrics
 * ```
 */
import { NodeMetrics } from './node-metrics.js'
import { PrometheusServer } from './server.js'

export interface MetricsServerInit {
  metrics: NodeMetrics
  /** IP address to listen on; off loopback a token is required (MetricsConfigError). */
  host: string
  /** 0: the OS chooses (start() returns the URL). */
  port: number
  /** Bearer token a scrape must send (Authorization: Bearer ...). */
  token?: string
  /** A collector failed during a scrape (the scrape gets 500). */
  onError?: (err: unknown) => void
}

export interface MetricsServer {
  start(): Promise<{ url: string }>
  stop(): Promise<void>
}

export function createNodeMetrics (init?: { processMetrics?: boolean }): NodeMetrics {
  return new NodeMetrics(init)
}

/** Throws MetricsConfigError for a non-IP host, a bad token, or a non-loopback host without a token. */
export function createMetricsServer (init: MetricsServerInit): MetricsServer {
  return new PrometheusServer(init)
}

export type { NodeMetrics, Link } from './node-metrics.js'
export { isLoopback } from './server.js'
export * from './constants.js'
export * from './errors.js'
export * from './parse.js'
