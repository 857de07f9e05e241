import { join } from 'node:path'
import { createBlockstore, type BlockstoreStats, type LocalBlockstore } from '@cachecloud/blockstore'
import {
  createControlServer, publishEndpoint, withdrawEndpoint, loadOrCreateToken,
  type CachePointApi, type ChangeSource, type PauseResultInfo, type PeerInfo, type StatusInfo, type SyncResultInfo, type Unsubscribe
} from '@cachecloud/control'
import { parseVersionRef } from '@cachecloud/core'
import { createCatalog, demoteIncompleteVersions, type Catalog } from '@cachecloud/image'
import { createTrustStore, formatPublicKey, type PublisherKey } from '@cachecloud/manifest'
import { createNetwork, DEFAULT_INBOUND_LIMITS, type CachePointLibp2p } from '@cachecloud/network'
import { createTransfer } from '@cachecloud/transfer'
import { createSwarm, type Swarm } from '@cachecloud/swarm'
import type { Logger } from 'pino'
import { loadKeys, type CachePointConfig } from './config.js'
import { BLOCKS_DIR, CATALOG_DIR, RECOMPRESSED_FILE, REST_LEVEL, STATE_FILE, STORE_STATS_MAX_AGE_MS, SWARM_PROGRESS_TICK_MS } from './constants.js'
import { makePrivateDir } from './data-dir.js'
import { DaemonNotStartedError } from './errors.js'
import { NbdExports } from './exports.js'
import { DaemonImages, versionInfo } from './images.js'
import { JobTracker } from './jobs.js'
import { lockDataDir } from './lock.js'
import { DaemonMetrics } from './metrics.js'
import { unguardedAddresses } from './open-listen.js'
import { PeerMonitor } from './peer-monitor.js'
import { listPeers } from './peers.js'
import { PersonalFolders } from './personal.js'
import { Pulls } from './pulls.js'
import { Recompression } from './recompression.js'
import { DaemonState } from './daemon-state.js'
import { Distribution, PULL_RETRY } from './distribution.js'
import { controlListenError, listenError } from './start-errors.js'
import { DaemonSwarm, readNetworkKey } from './swarm.js'

export interface DaemonInit {
  config: CachePointConfig
  logger: Logger
}

/** The parts of a started daemon; present only between start() and stop(). */
interface Running {
  blockstore: LocalBlockstore
  catalog: Catalog
  libp2p: CachePointLibp2p
  /** The swarm engine; `swarmApi` is the subsystem the control API sees. */
  swarm: Swarm
  /** Pause, resume, sync, retry and the pull status of every way a version arrives. */
  distribution: Distribution
  monitor: PeerMonitor
  publisherKey: PublisherKey
  images: DaemonImages
  swarmApi: DaemonSwarm
  exports: NbdExports
  personal: PersonalFolders
  recompression: Recompression
}

interface Stopper { name: string, stop: () => Promise<void> | void }

/**
 * A CachePoint: block store, catalog, libp2p host, transfer protocols and the control API.
 * Node-wide calls (status, peers, pause, resume, sync) are its own; the rest is in its named
 * subsystems `images`, `swarm`, `exports` and `personal`, present between start() and stop().
 */
export interface CachePointDaemon extends CachePointApi, ChangeSource {
  /** Locks the data directory and starts every part; resolves once the control API is reachable. */
  start(): Promise<{ controlUrl: string, peerId: string, addresses: string[] }>
  /** Stops every part and releases the data directory. */
  stop(): Promise<void>
}

class DefaultDaemon implements CachePointDaemon {
  private readonly config: CachePointConfig
  private readonly logger: Logger
  private readonly listeners = new Set<() => void>()
  private readonly changed = (): void => { for (const listener of this.listeners) listener() }
  private readonly jobs = new JobTracker(this.changed)
  private readonly startedAt = Date.now()
  private storeStats: { at: number, value: BlockstoreStats } | undefined
  private refreshingStats: Promise<void> | undefined
  private parts?: Running
  /** What stop() undoes, last started first (start() undoes the same on a failure). */
  private started: Stopper[] = []
  private stopping?: Promise<void>
  /** Prometheus metrics (config "metrics" serves them). */
  private readonly metrics: DaemonMetrics

  constructor (init: DaemonInit) {
    this.config = init.config
    this.logger = init.logger
    this.metrics = new DaemonMetrics(init.config.site ?? '', init.logger.child({ component: 'metrics' }))
  }

  private get running (): Running {
    if (this.parts === undefined) throw new DaemonNotStartedError()
    return this.parts
  }

  get images (): DaemonImages { return this.running.images }
  get swarm (): DaemonSwarm { return this.running.swarmApi }
  get exports (): NbdExports { return this.running.exports }
  get personal (): PersonalFolders { return this.running.personal }

  /**
   * Starts every part; returns the control API URL. A failure on the way stops what was
   * started already, in reverse order, and releases the data directory before it is thrown:
   * no half-started daemon keeps listening.
   */
  async start (): Promise<{ controlUrl: string, peerId: string, addresses: string[] }> {
    const { dataDir } = this.config
    const started: Stopper[] = []
    const onStop = (name: string, stop: () => Promise<void> | void): void => { started.push({ name, stop }) }
    try {
      const looser = await makePrivateDir(dataDir)
      if (looser !== undefined) this.logger.warn({ dataDir, mode: looser.toString(8) }, 'data directory was open to other users (mode %s): made it 0700', looser.toString(8))
      const open = unguardedAddresses(this.config)
      if (open.length > 0) this.logger.warn({ addresses: open }, 'insecureOpen: listening on %s with neither a network key nor an allow-list; any host that reaches it can list and download every image', open.join(', '))
      onStop('lock', await lockDataDir(dataDir))
      const { peerKey, publisherKey } = await loadKeys(dataDir)
      const trust = createTrustStore([...this.config.trustedPublishers, formatPublicKey(publisherKey.publicKey)])
      const blockstore = createBlockstore({ path: join(dataDir, BLOCKS_DIR) })
      await blockstore.start()
      onStop('blockstore', async () => { await blockstore.stop() })
      const catalog = createCatalog({ path: join(dataDir, CATALOG_DIR), blockstore })
      await catalog.start()
      onStop('catalog', async () => { await catalog.stop() })
      // a version that lost blocks while the node was down (a pack cut short or deleted) is no longer complete
      for (const lost of await demoteIncompleteVersions(catalog, blockstore)) {
        this.logger.warn({ ref: lost.ref, missingBlocks: lost.missingBlocks, missingBytes: lost.missingBytes }, '%s lost %s from the block store: marked incomplete, a pull fetches what is missing', lost.ref, lost.missingBlocks < 0 ? 'its manifest' : `${lost.missingBlocks} block${lost.missingBlocks === 1 ? '' : 's'}`)
      }
      const c = this.config
      const libp2p = await createNetwork({
        privateKey: peerKey, listen: c.listen, site: c.site, networkKey: await readNetworkKey(c), allowPeers: c.allowPeers,
        bootstrap: c.bootstrap, mdns: c.mdns, inbound: { ...DEFAULT_INBOUND_LIMITS, ...c.inbound }, logger: this.logger.child({ component: 'network' })
      }).catch((err: unknown) => { throw listenError(err) })
      onStop('libp2p', async () => { await libp2p.stop() })
      const peerStore = this.metrics.blockstore(blockstore) // what peers read and pulls write: counted
      const state = new DaemonState(join(dataDir, STATE_FILE), this.logger.child({ component: 'distribution' }))
      await state.load()
      const swarm = createSwarm({
        libp2p, blockstore: peerStore, catalog, trust, publisherKey, site: c.site, wan: c.wan, subscriptions: c.subscriptions, retry: PULL_RETRY, rolloutIntervalMs: c.rolloutIntervalSeconds === undefined ? undefined : c.rolloutIntervalSeconds * 1000, logger: this.logger.child({ component: 'swarm' }),
        onEvent: (event) => {
          if (event.type === 'pulled') this.metrics.swarmPulled(swarm.status().find(p => p.ref === event.ref)?.startedAt)
          this.changed()
          // a subscribed version completed: its image's retention policy applies
          if (event.type === 'pulled') this.parts?.images.lifecycle.afterPulled(event.ref)
        }
      })
      // pulling versions are listed so peers fetch from a node still downloading
      const transfer = createTransfer({ libp2p, blockstore: peerStore, catalog, trust, logger: this.logger.child({ component: 'transfer' }), advertisePulling: true, sendBudget: this.metrics.sendBudget(swarm.sendBudget), receiveBudget: this.metrics.receiveBudget(swarm.receiveBudget) })
      await transfer.start()
      onStop('transfer', async () => { await transfer.stop() })
      const pulls = new Pulls({
        transfer, catalog, jobs: this.jobs, peers: this.config.peers, state, retry: PULL_RETRY, logger: this.logger.child({ component: 'pulls' }), onChange: this.changed,
        swarmPulls: () => swarm.status().filter(p => p.state === 'pulling' || p.state === 'resolving').map(p => p.ref)
      })
      onStop('pulls', () => { pulls.stop() })
      const monitor = new PeerMonitor({ libp2p, peers: this.config.peers, logger: this.logger.child({ component: 'peers' }), onChange: this.changed })
      const personal = new PersonalFolders({ config: c, blockstore, libp2p, logger: this.logger.child({ component: 'personal' }), onChange: this.changed })
      const distribution = new Distribution({ state, pulls, swarm, personal, monitor, logger: this.logger.child({ component: 'distribution' }), onChange: this.changed })
      // a node paused before its restart stays paused: neither the swarm nor a personal folder starts anything
      await distribution.start()
      onStop('swarm', async () => { await swarm.stop() })
      await swarm.start()
      const exports = new NbdExports({
        dataDir, libp2p, blockstore, catalog, swarm, site: c.site, logger: this.logger.child({ component: 'exports' }), onChange: this.changed, onNbdRequest: this.metrics.nbdRequest, receiveBudget: this.metrics.receiveBudget(swarm.receiveBudget), publisherKey, publish: async (ref) => await swarm.publish(parseVersionRef(ref)),
        ...(c.exportCacheMiB === undefined ? {} : { poolCacheBytes: c.exportCacheMiB * 1024 * 1024 })
      })
      // what this node imports is kept at a higher zstd level once imported, on a background thread
      const recompression = new Recompression({
        blockstore, catalog, jobs: this.jobs, level: c.restLevel ?? REST_LEVEL, publisher: formatPublicKey(publisherKey.publicKey),
        path: join(dataDir, RECOMPRESSED_FILE), logger: this.logger.child({ component: 'recompression' })
      })
      const images = new DaemonImages({
        config: c,
        blockstore,
        catalog,
        trust,
        publisherKey,
        jobs: this.jobs,
        pulls,
        swarm,
        exports,
        personal,
        recompression,
        logger: this.logger
      })
      this.parts = {
        blockstore, catalog, libp2p, swarm, distribution, monitor, publisherKey, images, swarmApi: new DaemonSwarm(swarm, c), exports, personal, recompression
      }
      this.started = started
      onStop('parts', () => { this.parts = undefined })
      monitor.start()
      onStop('peer monitor', () => { monitor.stop() })
      // personal syncs write to the block store and replicate over libp2p: stopped before them
      onStop('personal folders', async () => { await personal.stop() })
      await personal.start()
      // exports read through the swarm and the block store; overlays are flushed on stop
      onStop('exports', async () => { await exports.stop() })
      // exports of the last run, at the same addresses: a hypervisor's client reconnects
      await exports.restore()
      // the control API stops first: no request reaches a part being stopped
      const token = await loadOrCreateToken(dataDir)
      const control = createControlServer({ api: this.metrics.api(this), changes: this, token, port: this.config.controlPort, logger: this.logger.child({ component: 'control' }) })
      const { url } = await control.start().catch((err: unknown) => { throw controlListenError(err, this.config.controlPort) })
      onStop('control API', async () => { await control.stop() })
      const swarmTicker = setInterval(() => {
        if (exports.serving || swarm.status().some(p => p.state === 'pulling' || p.state === 'resolving')) this.changed()
      }, SWARM_PROGRESS_TICK_MS)
      swarmTicker.unref()
      onStop('progress ticker', () => { clearInterval(swarmTicker) })
      onStop('metrics', async () => { await this.metrics.stop() })
      await this.metrics.start(c, libp2p, async () => await this.status())
      // direct pulls cut by the last stop (a crash, a kill) continue, as the swarm's do: their jobs exist before the
      // endpoint tells clients the daemon is up, so a status asked at once shows them (CI saw none, asked right after)
      await pulls.resumeInterrupted()
      await publishEndpoint(dataDir, { url, pid: process.pid })
      onStop('endpoint', async () => { await withdrawEndpoint(dataDir) })
      // stopped before the block store (it writes to it)
      onStop('recompression', async () => { await recompression.stop() })
      await recompression.start()
      const addresses = libp2p.getMultiaddrs().map(String)
      this.logger.info({ peerId: libp2p.peerId.toString(), addresses, controlUrl: url, publisherKey: formatPublicKey(publisherKey.publicKey) }, 'CachePoint started')
      return { controlUrl: url, peerId: libp2p.peerId.toString(), addresses }
    } catch (err) {
      this.logger.error({ err: { code: (err as { code?: string }).code, message: (err as Error).message } }, 'start failed; stopping what was started')
      await this.unwind(started)
      throw err
    }
  }

  async stop (): Promise<void> {
    if (this.parts === undefined) return
    this.stopping ??= this.unwind(this.started).then(() => { this.logger.info('CachePoint stopped') }).finally(() => { this.stopping = undefined })
    await this.stopping
  }

  /** Stops started parts, last started first; one failing does not keep the others (or the lock) alive. */
  private async unwind (started: Stopper[]): Promise<void> {
    while (started.length > 0) {
      const { name, stop } = started.pop() as Stopper
      try {
        await stop()
      } catch (err) {
        this.logger.warn({ err, part: name }, 'stopping %s failed', name)
      }
    }
  }

  async status (): Promise<StatusInfo> {
    const stats = await this.running.blockstore.stats()
    this.storeStats = { at: Date.now(), value: stats }
    return await this.describe(stats)
  }

  async currentStatus (): Promise<StatusInfo> {
    const cached = this.storeStats
    if (cached === undefined) return await this.status()
    if (Date.now() - cached.at > STORE_STATS_MAX_AGE_MS && this.refreshingStats === undefined) {
      // counting blocks stats every one of them: never make a status wait for it
      this.refreshingStats = this.running.blockstore.stats()
        .then((value) => { this.storeStats = { at: Date.now(), value }; this.changed() }, (err: Error) => { this.logger.warn({ err }, 'store stats failed') })
        .finally(() => { this.refreshingStats = undefined })
    }
    return await this.describe(cached.value)
  }

  private async describe (stats: BlockstoreStats): Promise<StatusInfo> {
    const { catalog, libp2p, publisherKey, distribution, monitor, personal, swarmApi, exports, recompression } = this.running
    const entries = await catalog.list()
    const versions = entries.map(versionInfo)
    const jobs = this.jobs.list()
    const swarm = await swarmApi.status()
    return {
      peerId: libp2p.peerId.toString(),
      addresses: libp2p.getMultiaddrs().map(String),
      publisherKey: formatPublicKey(publisherKey.publicKey),
      trustedPublishers: this.config.trustedPublishers,
      dataDir: this.config.dataDir,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      store: {
        blocks: stats.blocks,
        physicalBytes: stats.bytes,
        storedBytes: stats.storedBytes,
        logicalBytes: entries.reduce((sum, e) => sum + e.size, 0),
        recompression: recompression.status()
      },
      versions,
      jobs,
      ...distribution.status(versions, jobs, swarm.pulls),
      connections: libp2p.getConnections().length,
      paused: distribution.paused,
      online: monitor.online,
      peersConfigured: monitor.configured,
      peersReachable: monitor.reachableCount,
      pending: entries.filter(e => e.state === 'pulling').length,
      personal: await personal.status(),
      swarm,
      exports: await exports.list()
    }
  }

  async peers (): Promise<PeerInfo[]> {
    return await listPeers(this.running.libp2p, this.config)
  }

  async pause (): Promise<PauseResultInfo> { return await this.running.distribution.pause() }
  async resume (): Promise<SyncResultInfo> { return await this.running.distribution.resume() }
  async sync (): Promise<SyncResultInfo> { return await this.running.distribution.sync() }

  watch (onChange: () => void): Unsubscribe {
    this.listeners.add(onChange)
    return () => { this.listeners.delete(onChange) }
  }
}

export function createDaemon (init: DaemonInit): CachePointDaemon {
  return new DefaultDaemon(init)
}
