import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client'
import { MAX_LABEL_VALUES, NBD_READ_SECONDS_BUCKETS, PULL_SECONDS_BUCKETS } from './constants.js'

export type Link = 'lan' | 'wan'

/**
 * The instruments of one node (a CachePoint or a dcstore). Names are documented
 * in docs/metrics.md; labels whose values come from peers are bounded.
 */
export class NodeMetrics {
  readonly registry = new Registry()
  private readonly collectors: Array<() => Promise<void> | void> = []
  private readonly seen = new Map<string, Set<string>>()

  readonly bytesReceived = new Counter({ name: 'cachecloud_bytes_received_total', help: 'Block bytes received from peers, by the peer\'s site and whether it is this site (lan) or another (wan)', labelNames: ['site', 'link'] as const, registers: [this.registry] })
  readonly bytesSent = new Counter({ name: 'cachecloud_bytes_sent_total', help: 'Bytes of block responses sent to peers, by the peer\'s site and lan/wan', labelNames: ['site', 'link'] as const, registers: [this.registry] })
  readonly blocksStored = new Counter({ name: 'cachecloud_blocks_stored_total', help: 'Blocks newly written to the block store by imports and pulls', registers: [this.registry] })
  readonly blocksServed = new Counter({ name: 'cachecloud_blocks_served_total', help: 'Blocks read from the block store to answer peers', registers: [this.registry] })
  readonly pulls = new Gauge({ name: 'cachecloud_pulls', help: 'Pulls of this run by state (resolving, pulling, paused, complete, failed)', labelNames: ['state'] as const, registers: [this.registry] })
  readonly pullSeconds = new Histogram({ name: 'cachecloud_pull_duration_seconds', help: 'Time from the start of a pull to its version complete', buckets: PULL_SECONDS_BUCKETS, registers: [this.registry] })
  readonly nbdReadSeconds = new Histogram({ name: 'cachecloud_nbd_read_duration_seconds', help: 'NBD READ request latency, local and on demand', buckets: NBD_READ_SECONDS_BUCKETS, registers: [this.registry] })
  readonly storeBytes = new Gauge({ name: 'cachecloud_store_bytes', help: 'Bytes on disk of block content (each distinct block once)', registers: [this.registry] })
  readonly storeBlocks = new Gauge({ name: 'cachecloud_store_blocks', help: 'Distinct blocks held', registers: [this.registry] })
  readonly personalPending = new Gauge({ name: 'cachecloud_personal_snapshots_pending', help: 'Personal snapshots not yet committed by the store', registers: [this.registry] })
  readonly errors = new Counter({ name: 'cachecloud_errors_total', help: 'Errors by stable code (requests refused or failed, background pulls failed, NBD errors)', labelNames: ['code'] as const, registers: [this.registry] })

  constructor (init: { processMetrics?: boolean } = {}) {
    if (init.processMetrics !== false) collectDefaultMetrics({ register: this.registry })
  }

  /** A label value from outside this process, kept to MAX_LABEL_VALUES distinct ones per label ('other' beyond). */
  bounded (label: string, value: string): string {
    let values = this.seen.get(label)
    if (values === undefined) this.seen.set(label, values = new Set())
    const clean = value.slice(0, 64)
    if (values.has(clean)) return clean
    if (values.size >= MAX_LABEL_VALUES) return 'other'
    values.add(clean)
    return clean
  }

  received (site: string, link: Link, bytes: number): void {
    if (bytes > 0) this.bytesReceived.inc({ site: this.bounded('site', site), link }, bytes)
  }

  sent (site: string, link: Link, bytes: number): void {
    if (bytes > 0) this.bytesSent.inc({ site: this.bounded('site', site), link }, bytes)
  }

  error (code: string): void {
    this.errors.inc({ code: this.bounded('code', /^ERR_[A-Z0-9_]{1,60}$/.test(code) ? code : 'ERR_UNKNOWN') })
  }

  /** Runs before every scrape: where gauges are read from the node's status. */
  onCollect (collect: () => Promise<void> | void): void {
    this.collectors.push(collect)
  }

  /** The Prometheus text exposition of every metric, after the collectors ran. */
  async text (): Promise<string> {
    for (const collect of this.collectors) await collect()
    return await this.registry.metrics()
  }

  get contentType (): string {
    return this.registry.contentType
  }
}
