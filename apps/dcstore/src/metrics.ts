import { readdir, readFile, lstat } from 'node:fs/promises'
import { join } from 'node:path'
import { Counter } from 'prom-client'
import type { Logger, LoggerOptions } from 'pino'
import type { DcStoreEvent } from '@cachecloud/dcstore'
import { createMetricsServer, createNodeMetrics, isLoopback, MetricsConfigError, type MetricsServer, type NodeMetrics } from '@cachecloud/metrics'
import { MetricsFlagError } from './errors.js'

/** Store size is walked at most this often (a NAS holding many users' packs). */
const STORE_SIZE_MAX_AGE_MS = 30_000

/**
 * The store's metrics: the node instruments it can fill (bytes received by
 * replication and sent by reads, blocks stored and served, store size,
 * errors by code, process), blocks received, and snapshots committed.
 * docs/metrics.md.
 */
export class DcStoreMetrics {
  readonly node: NodeMetrics = createNodeMetrics()
  readonly committed = new Counter({ name: 'cachecloud_dcstore_snapshots_committed_total', help: 'Personal snapshots the store committed', registers: [this.node.registry] })
  readonly blocksReceived = new Counter({ name: 'cachecloud_dcstore_blocks_received_total', help: 'Blocks nodes sent in replication (verified against their CID; stored unless already held)', registers: [this.node.registry] })
  private size: { at: number, bytes: number, files: number } | undefined
  private server: MetricsServer | undefined

  constructor (private readonly dir: string) {
    this.node.onCollect(async () => {
      if (this.size === undefined || Date.now() - this.size.at > STORE_SIZE_MAX_AGE_MS) this.size = { at: Date.now(), ...await walk(this.dir) }
      this.node.storeBytes.set(this.size.bytes)
    })
  }

  /** What a replication or read stream moved. The store has no site: its nodes reach it across sites (link wan, site ''). */
  record (e: DcStoreEvent): void {
    if (e.type === 'replication:received') {
      this.node.received('', 'wan', e.bytes)
      this.blocksReceived.inc(e.blocks)
      this.node.blocksStored.inc(e.stored)
    } else {
      this.node.sent('', 'wan', e.bytes)
      this.node.blocksServed.inc(e.blocks)
    }
  }

  /** pino options whose hook counts what the store logs: committed snapshots, refusals and failures by code. */
  loggerHooks (): Pick<LoggerOptions, 'hooks'> {
    const metrics = this
    return {
      hooks: {
        // a function, not an arrow: pino calls the hook with the logger as `this`, and the log method needs it
        logMethod (this: Logger, args, method, level) {
          const [obj, msg] = args as [unknown, unknown]
          if (typeof obj === 'object' && obj !== null) {
            const o = obj as { reason?: unknown, err?: { code?: unknown } }
            if (msg === 'committed snapshot') metrics.committed.inc()
            else if (level >= 40 && typeof o.reason === 'string') metrics.node.error(`ERR_REFUSED_${o.reason.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}`)
            else if (level >= 40) metrics.node.error(typeof o.err?.code === 'string' ? o.err.code : 'ERR_INTERNAL')
          }
          method.apply(this, args as Parameters<typeof method>)
        }
      }
    }
  }

  /** Checks `--metrics HOST:PORT [--metrics-token-file FILE]` (off loopback only with a token) before anything starts. */
  async configure (listen: string, tokenFile: string | undefined): Promise<void> {
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+)):(\d{1,5})$/.exec(listen)
    if (m === null || Number(m[3]) > 65535) throw new MetricsFlagError(`--metrics must be HOST:PORT with an IP address, e.g. 127.0.0.1:9465, got ${JSON.stringify(listen.slice(0, 80))}`)
    const host = m[1] ?? m[2]
    if (!isLoopback(host) && tokenFile === undefined) throw new MetricsFlagError(`--metrics ${listen} is reachable beyond this host: add --metrics-token-file FILE (the bearer token Prometheus sends) or listen on 127.0.0.1`)
    let token: string | undefined
    if (tokenFile !== undefined) {
      token = (await readFile(tokenFile, 'utf8').catch((err: NodeJS.ErrnoException) => {
        throw new MetricsFlagError(`cannot read the metrics token file ${tokenFile}: ${err.code ?? err.message}`, { cause: err })
      })).trim()
    }
    try {
      this.server = createMetricsServer({ metrics: this.node, host, port: Number(m[3]), token })
    } catch (err) {
      throw err instanceof MetricsConfigError ? new MetricsFlagError(err.message, { cause: err }) : err
    }
  }

  /** Listens if configured; returns the URL. */
  async start (): Promise<string | undefined> {
    return this.server === undefined ? undefined : (await this.server.start()).url
  }

  async stop (): Promise<void> { await this.server?.stop() }
}

/** Bytes and files under a directory (symbolic links not followed). */
async function walk (dir: string): Promise<{ bytes: number, files: number }> {
  let bytes = 0
  let files = 0
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (!entry.isFile()) continue
    const s = await lstat(join(entry.parentPath, entry.name)).catch(() => undefined)
    if (s === undefined) continue
    bytes += s.blocks * 512
    files++
  }
  return { bytes, files }
}
