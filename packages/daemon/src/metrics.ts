import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import type { Libp2p } from '@libp2p/interface'
import type { Blockstore } from '@cachecloud/blockstore'
import type { StatusInfo } from '@cachecloud/control'
import { isCacheCloudError } from '@cachecloud/core'
import { createMetricsServer, createNodeMetrics, MetricsConfigError, type Link, type MetricsServer, type NodeMetrics } from '@cachecloud/metrics'
import type { NbdRequestEvent } from '@cachecloud/nbd'
import { peerSite } from '@cachecloud/network'
import type { MetricsConfig } from './metrics-config.js'

/** NBD's READ command (docs/formats/nbd.md). */
const NBD_CMD_READ = 0

type Budget = (peer: string, bytes: number) => Promise<void>

/** The daemon's named subsystems: their calls are counted as the node's own. */
const SUBSYSTEMS = new Set(['images', 'swarm', 'exports', 'personal'])

/**
 * The daemon's Prometheus metrics: counters fed by wrappers around the parts'
 * hooks (the block store peers read from, the send and receive budgets, the NBD
 * request events, the control API), gauges read from status() at each scrape.
 * Metric names: docs/metrics.md.
 */
export class DaemonMetrics {
  readonly node: NodeMetrics = createNodeMetrics()
  private server: MetricsServer | undefined
  private libp2p: Libp2p | undefined
  /** Block bytes of each swarm pull and peer seen at the last scrape (a resumed pull continues its counters). */
  private readonly pulled = new Map<string, number>()
  private readonly failedPulls = new Set<string>()

  constructor (private readonly site: string, private readonly logger: Logger) {}

  private async link (peer: string): Promise<{ site: string, link: Link }> {
    let site = ''
    try {
      if (this.libp2p !== undefined) site = await peerSite(this.libp2p, peer) ?? ''
    } catch {}
    return { site, link: this.site !== '' && site === this.site ? 'lan' : 'wan' }
  }

  /** The block store as peers' requests (transfer) and pulls (transfer, swarm) use it: reads count as served, new writes as stored. */
  blockstore (inner: Blockstore): Blockstore {
    const m = this.node
    return new Proxy(inner, {
      get (target, prop) {
        const value = Reflect.get(target, prop, target) as unknown
        if (typeof value !== 'function') return value
        const fn = value as (...args: unknown[]) => Promise<unknown>
        if (prop === 'get' || prop === 'getEncoded') return async (...args: unknown[]) => { const r = await fn.apply(target, args); m.blocksServed.inc(); return r }
        if (prop === 'put' || prop === 'putEncoded') return async (...args: unknown[]) => { const r = await fn.apply(target, args); if (r === true) m.blocksStored.inc(); return r }
        if (prop === 'putBytes') return async (...args: unknown[]) => { const r = await fn.apply(target, args) as { written: boolean }; if (r.written) m.blocksStored.inc(); return r }
        return fn.bind(target)
      }
    })
  }

  sendBudget (inner: Budget): Budget {
    return async (peer, bytes) => {
      await inner(peer, bytes)
      const { site, link } = await this.link(peer)
      this.node.sent(site, link, bytes)
    }
  }

  /** Direct pulls and reads on demand (swarm pulls are counted from their status at each scrape). */
  receiveBudget (inner: Budget): Budget {
    return async (peer, bytes) => {
      await inner(peer, bytes)
      const { site, link } = await this.link(peer)
      this.node.received(site, link, bytes)
    }
  }

  readonly nbdRequest = (event: NbdRequestEvent): void => {
    if (event.command === NBD_CMD_READ) this.node.nbdReadSeconds.observe(event.ms / 1000)
    if (event.type === 'error') this.node.error('ERR_NBD_REQUEST_FAILED')
  }

  /**
   * The control API with every refused or failed call counted by its code (the node's own
   * calls and its subsystems'), direct pulls timed and imported blocks counted.
   */
  api<T extends object> (api: T): T {
    return this.counted(api, '')
  }

  private counted<T extends object> (api: T, path: string): T {
    const m = this.node
    return new Proxy(api, {
      get: (target, prop) => {
        const value = Reflect.get(target, prop, target) as unknown
        // the control server takes each subsystem once, when it builds its routes
        if (typeof prop === 'string' && path === '' && SUBSYSTEMS.has(prop) && typeof value === 'object' && value !== null) return this.counted(value, prop)
        if (typeof value !== 'function') return value
        const fn = value as (...args: unknown[]) => unknown
        const name = `${path}.${String(prop)}`
        return (...args: unknown[]) => {
          const r = fn.apply(target, args)
          if (!(r instanceof Promise)) return r
          return r.then((result: unknown) => {
            if (name === 'images.pull') m.pullSeconds.observe(((result as { durationMs?: number }).durationMs ?? 0) / 1000)
            if (name === 'images.import') m.blocksStored.inc((result as { newBlocks?: number }).newBlocks ?? 0)
            return result
          }, (err: unknown) => {
            m.error(isCacheCloudError(err) ? err.code : 'ERR_INTERNAL')
            throw err
          })
        }
      }
    })
  }

  /** A swarm pull completed: its time from start. */
  swarmPulled (startedAt: string | undefined): void {
    if (startedAt !== undefined) this.node.pullSeconds.observe(Math.max(0, Date.now() - Date.parse(startedAt)) / 1000)
  }

  private collect (status: StatusInfo): void {
    const m = this.node
    m.storeBytes.set(status.store.physicalBytes)
    m.storeBlocks.set(status.store.blocks)
    m.personalPending.set(status.personal.reduce((n, p) => n + p.pendingSnapshots, 0))
    m.pulls.reset()
    for (const state of ['resolving', 'pulling', 'paused', 'complete', 'failed']) m.pulls.set({ state }, 0)
    for (const p of status.swarm.pulls) {
      m.pulls.inc({ state: p.state })
      if (p.state === 'failed' && !this.failedPulls.has(`${p.ref} ${p.startedAt}`)) {
        this.failedPulls.add(`${p.ref} ${p.startedAt}`)
        m.error('ERR_SWARM_PULL_FAILED')
      }
      for (const peer of p.peers) {
        const key = `${p.ref} ${peer.peer}`
        const delta = peer.bytes - (this.pulled.get(key) ?? 0)
        if (delta > 0) {
          m.received(peer.site, peer.lan ? 'lan' : 'wan', delta)
          this.pulled.set(key, peer.bytes)
        }
      }
    }
    for (const job of status.jobs) {
      if (job.kind !== 'pull') continue
      m.pulls.inc({ state: job.state === 'running' ? 'pulling' : job.state === 'done' ? 'complete' : job.state })
    }
  }

  /** Serves the endpoint if the config asks for one; returns its URL. */
  async start (config: MetricsConfig, libp2p: Libp2p, status: () => Promise<StatusInfo>): Promise<string | undefined> {
    this.libp2p = libp2p
    this.node.onCollect(async () => { this.collect(await status()) })
    if (config.metrics === undefined) return undefined
    const { host, port, tokenFile } = config.metrics
    let token: string | undefined
    if (tokenFile !== undefined) {
      try {
        token = (await readFile(tokenFile, 'utf8')).trim()
      } catch (err) {
        throw new MetricsConfigError(`cannot read the metrics token file ${tokenFile}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
      }
    }
    this.server = createMetricsServer({ metrics: this.node, host, port, token, onError: (err) => { this.logger.warn({ err }, 'metrics collection failed') } })
    const { url } = await this.server.start()
    this.logger.info({ url }, 'metrics at %s', url)
    return url
  }

  async stop (): Promise<void> {
    await this.server?.stop()
    this.server = undefined
  }
}
