import { join } from 'node:path'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import {
  createControlServer, publishEndpoint, withdrawEndpoint, loadOrCreateToken,
  type CachePointApi, type ControlServer, type DiffInfo, type ExportRequest, type ExportResultInfo, type GcResultInfo,
  type ChangeSource, type ImageVersionInfo, type PersonalApi, type PersonalRestoreRequest, type PersonalRestoreResultInfo,
  type PersonalSnapshotInfo, type RemoveRequest, type RemoveResultInfo, type PruneRequest, type PruneResultInfo, type CheckRequest, type CheckResultInfo,
  type PersonalSnapshotResultInfo, type PersonalStatusInfo, type ImportRequest, type ImportResultInfo, type PauseResultInfo, type PeerInfo,
  type ExportsApi, type LifecycleApi, type ProgressSink, type PullRequest, type SwarmApi, type PullResultInfo, type StatusInfo, type SyncResultInfo, type Unsubscribe
} from '@cachecloud/control'
import { formatVersionRef, parseVersionRef } from '@cachecloud/core'
import { createCatalog, demoteIncompleteVersions, diffManifests, exportImage, importImage, parseDiskFormat, throttledProgress, VersionIncompleteError, type Catalog, type CatalogEntry } from '@cachecloud/image'
import { createTrustStore, formatPublicKey, type PublisherKey } from '@cachecloud/manifest'
import { createNetwork, DEFAULT_INBOUND_LIMITS, parseMultiaddr, type CachePointLibp2p } from '@cachecloud/network'
import { createTransfer, type Transfer } from '@cachecloud/transfer'
import { createSwarm, type Swarm } from '@cachecloud/swarm'
import { readNetworkKey, swarmApi } from './distribution.js'
import { exportsApi, NbdExports } from './exports.js'

/** Indexes of changed blocks a diff lists (the count is always whole). */
const DIFF_INDEXES_LISTED = 10_000
import { createLifecycleParts } from './lifecycle-parts.js'
import type { Lifecycle } from './lifecycle.js'
import { exportConverted } from './format-export.js'
import { DaemonMetrics } from './metrics.js'
import type { Logger } from 'pino'
import { loadKeys, type CachePointConfig } from './config.js'
import { BLOCKS_DIR, CATALOG_DIR, STATE_FILE, STORE_STATS_MAX_AGE_MS, SWARM_PROGRESS_TICK_MS } from './constants.js'
import { JobTracker } from './jobs.js'
import { lockDataDir } from './lock.js'
import { PeerMonitor } from './peer-monitor.js'
import { PersonalFolders } from './personal.js'
import { Pulls } from './pulls.js'
import { controlListenError, listenError } from './start-errors.js'
import { makePrivateDir } from './data-dir.js'
import { unguardedAddresses } from './open-listen.js'
import { peerRole } from './peer-role.js'

export interface DaemonInit {
  config: CachePointConfig
  logger: Logger
}

/** A sync's result with the swarm's restarts: a ref the swarm restarted is `started`, not skipped. */
function withSwarm (result: SyncResultInfo, swarmStarted: string[]): SyncResultInfo {
  const started = [...new Set([...result.started, ...swarmStarted])]
  return { ...result, started, skipped: result.skipped.filter(s => !started.includes(s.ref)) }
}

function versionInfo (entry: CatalogEntry): ImageVersionInfo {
  return {
    name: entry.name,
    version: entry.version,
    cid: entry.cid.toString(),
    state: entry.state,
    size: entry.size,
    blockSize: entry.blockSize,
    createdAt: entry.createdAt,
    parent: entry.parent?.toString() ?? null,
    publisher: entry.publisher
  }
}

/** The parts of a started daemon; present only between start() and stop(). */
interface Running {
  blockstore: Blockstore
  catalog: Catalog
  libp2p: CachePointLibp2p
  transfer: Transfer
  swarm: Swarm
  control: ControlServer
  pulls: Pulls
  monitor: PeerMonitor
  personal: PersonalFolders
  exports: NbdExports
  publisherKey: PublisherKey
  lifecycle: Lifecycle
  lifecycleApi: LifecycleApi
  /** What stop() undoes, last started first (start() undoes the same on a failure). */
  started: Stopper[]
}

interface Stopper { name: string, stop: () => Promise<void> | void }

/** A CachePoint: block store, catalog, libp2p host, transfer protocols and the control API. */
export interface CachePointDaemon extends CachePointApi, SwarmApi, PersonalApi, ExportsApi, LifecycleApi, ChangeSource {
  /** Locks the data directory and starts every part; resolves once the control API is reachable. */
  start(): Promise<{ controlUrl: string, peerId: string, addresses: string[] }>
  /** Stops every part and releases the data directory. */
  stop(): Promise<void>
}

// the swarm methods come from swarmApi (distribution.ts), the export methods from exportsApi (exports.ts), assigned in the constructor
interface DefaultDaemon extends SwarmApi, ExportsApi {}
class DefaultDaemon implements CachePointDaemon {
  private readonly config: CachePointConfig
  private readonly logger: Logger
  private readonly listeners = new Set<() => void>()
  private readonly changed = (): void => { for (const listener of this.listeners) listener() }
  private readonly jobs = new JobTracker(this.changed)
  private readonly startedAt = Date.now()
  private storeStats: { at: number, value: { blocks: number, bytes: number } } | undefined
  private refreshingStats: Promise<void> | undefined
  private parts?: Running
  private stopping?: Promise<void>
  /** Prometheus metrics (config "metrics" serves them). */
  private readonly metrics: DaemonMetrics

  constructor (init: DaemonInit) {
    this.config = init.config
    this.logger = init.logger
    this.metrics = new DaemonMetrics(init.config.site ?? '', init.logger.child({ component: 'metrics' }))
    Object.assign(this, swarmApi(() => this.running.swarm, this.config))
    Object.assign(this, exportsApi(() => this.running.exports))
  }

  private get running (): Running {
    if (this.parts === undefined) throw new Error('CachePoint daemon is not started')
    return this.parts
  }

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
      const swarm = createSwarm({
        libp2p, blockstore: peerStore, catalog, trust, publisherKey, site: c.site, wan: c.wan, subscriptions: c.subscriptions, rolloutIntervalMs: c.rolloutIntervalSeconds === undefined ? undefined : c.rolloutIntervalSeconds * 1000, logger: this.logger.child({ component: 'swarm' }),
        onEvent: (event) => {
          if (event.type === 'pulled') this.metrics.swarmPulled(swarm.status().find(p => p.ref === event.ref)?.startedAt)
          this.changed()
          // a subscribed version completed: its image's retention policy applies
          if (event.type === 'pulled') this.parts?.lifecycle.afterPulled(event.ref)
        }
      })
      // pulling versions are listed so peers fetch from a node still downloading
      const transfer = createTransfer({ libp2p, blockstore: peerStore, catalog, trust, logger: this.logger.child({ component: 'transfer' }), advertisePulling: true, sendBudget: this.metrics.sendBudget(swarm.sendBudget), receiveBudget: this.metrics.receiveBudget(swarm.receiveBudget) })
      await transfer.start()
      onStop('transfer', async () => { await transfer.stop() })
      const pulls = new Pulls({
        transfer, catalog, jobs: this.jobs, peers: this.config.peers, stateFile: join(dataDir, STATE_FILE), logger: this.logger.child({ component: 'pulls' }), onChange: this.changed,
        swarmPulls: () => swarm.status().filter(p => p.state === 'pulling' || p.state === 'resolving').map(p => p.ref)
      })
      await pulls.start()
      // a node paused before its restart stays paused: the swarm starts no pull either
      if (pulls.paused) await swarm.pause()
      onStop('swarm', async () => { await swarm.stop() })
      await swarm.start()
      const monitor = new PeerMonitor({ libp2p, peers: this.config.peers, logger: this.logger.child({ component: 'peers' }), onChange: this.changed })
      const personal = new PersonalFolders({ config: c, blockstore, libp2p, logger: this.logger.child({ component: 'personal' }), onChange: this.changed })
      if (pulls.paused) personal.setPaused(true)
      const exports = new NbdExports({ dataDir, libp2p, blockstore, catalog, swarm, site: c.site, logger: this.logger.child({ component: 'exports' }), onChange: this.changed, onNbdRequest: this.metrics.nbdRequest, receiveBudget: this.metrics.receiveBudget(swarm.receiveBudget), publisherKey, publish: async (ref) => await swarm.publish(parseVersionRef(ref)) })
      const token = await loadOrCreateToken(dataDir)
      const control = createControlServer({ api: this.metrics.api(this), changes: this, token, port: this.config.controlPort, logger: this.logger.child({ component: 'control' }) })
      const { lifecycle, api: lifecycleApi } = createLifecycleParts({
        config: c, catalog, blockstore, trust, swarm, exports, jobs: () => this.jobs.list(), gc: async () => await this.gc(),
        pull: async (request, onProgress) => await this.pull(request, onProgress), logger: this.logger.child({ component: 'lifecycle' })
      })
      this.parts = { blockstore, catalog, libp2p, transfer, swarm, control, pulls, monitor, personal, exports, publisherKey, lifecycle, lifecycleApi, started }
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
      const { url } = await control.start().catch((err: unknown) => { throw controlListenError(err, this.config.controlPort) })
      onStop('control API', async () => { await control.stop() })
      const swarmTicker = setInterval(() => {
        if (exports.serving || swarm.status().some(p => p.state === 'pulling' || p.state === 'resolving')) this.changed()
      }, SWARM_PROGRESS_TICK_MS)
      swarmTicker.unref()
      onStop('progress ticker', () => { clearInterval(swarmTicker) })
      onStop('metrics', async () => { await this.metrics.stop() })
      await this.metrics.start(c, libp2p, async () => await this.status())
      await publishEndpoint(dataDir, { url, pid: process.pid })
      onStop('endpoint', async () => { await withdrawEndpoint(dataDir) })
      // direct pulls cut by the last stop (a crash, a kill) continue, as the swarm's do
      await pulls.resumeInterrupted()
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
    const parts = this.parts
    if (parts === undefined) return
    this.stopping ??= this.unwind(parts.started).then(() => { this.logger.info('CachePoint stopped') }).finally(() => { this.stopping = undefined })
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
    return this.describe(stats)
  }

  async snapshot (): Promise<StatusInfo> {
    const cached = this.storeStats
    if (cached === undefined) return this.status()
    if (Date.now() - cached.at > STORE_STATS_MAX_AGE_MS && this.refreshingStats === undefined) {
      // counting blocks stats every one of them: never make a snapshot wait for it
      this.refreshingStats = this.running.blockstore.stats()
        .then((value) => { this.storeStats = { at: Date.now(), value }; this.changed() }, (err: Error) => { this.logger.warn({ err }, 'store stats failed') })
        .finally(() => { this.refreshingStats = undefined })
    }
    return this.describe(cached.value)
  }

  private async describe (stats: { blocks: number, bytes: number }): Promise<StatusInfo> {
    const { catalog, libp2p, publisherKey, pulls, monitor, personal } = this.running
    const entries = await catalog.list()
    const personalStatus = await personal.personalStatus()
    return {
      peerId: libp2p.peerId.toString(),
      addresses: libp2p.getMultiaddrs().map(String),
      publisherKey: formatPublicKey(publisherKey.publicKey),
      trustedPublishers: this.config.trustedPublishers,
      dataDir: this.config.dataDir,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000),
      store: { blocks: stats.blocks, physicalBytes: stats.bytes, logicalBytes: entries.reduce((sum, e) => sum + e.size, 0) },
      versions: entries.map(versionInfo),
      jobs: this.jobs.list(),
      connections: libp2p.getConnections().length,
      paused: pulls.paused,
      online: monitor.online,
      peersConfigured: monitor.configured,
      peersReachable: monitor.reachableCount,
      pending: entries.filter(e => e.state === 'pulling').length,
      personal: personalStatus,
      swarm: await this.swarmStatus(),
      exports: await this.running.exports.exports()
    }
  }

  async images (): Promise<ImageVersionInfo[]> {
    return (await this.running.catalog.list()).map(versionInfo)
  }

  async importImage (request: ImportRequest, onProgress: ProgressSink): Promise<ImportResultInfo> {
    const { blockstore, catalog, publisherKey } = this.running
    const ref = formatVersionRef(parseVersionRef(`${request.name}@${request.version}`))
    return this.jobs.run('import', ref, onProgress, async (progress) => {
      const { cid, stats } = await importImage({
        file: request.file,
        ...(request.format !== undefined ? { format: parseDiskFormat(request.format) } : {}),
        name: request.name,
        version: request.version,
        blockSize: request.blockSize ?? this.config.blockSize,
        ...(request.compressionLevel !== undefined ? { compressionLevel: request.compressionLevel } : {}),
        blockstore,
        catalog,
        key: publisherKey,
        onProgress: progress
      })
      this.logger.info({ ref, cid: cid.toString(), ...stats }, 'image imported')
      return { ref, cid: cid.toString(), ...stats }
    })
  }

  async pull (request: PullRequest, onProgress: ProgressSink): Promise<PullResultInfo> {
    return this.running.pulls.pull(request, onProgress)
  }

  /** Pause: pull jobs and swarm pulls stop (what they stored stays), none starts until resume; personal snapshots are kept here, not sent. */
  async pause (): Promise<PauseResultInfo> {
    const { pulls, swarm, personal } = this.running
    personal.setPaused(true)
    const [result, swarmStopped] = await Promise.all([pulls.pause(), swarm.pause()])
    this.changed()
    return { ...result, stopped: [...result.stopped, ...swarmStopped.filter(ref => !result.stopped.includes(ref))] }
  }

  async resume (): Promise<SyncResultInfo> {
    void this.running.monitor.probe()
    // the swarm first: versions it restarts are its own, and the pull jobs leave them to it
    const swarmStarted = await this.running.swarm.resume()
    this.running.personal.setPaused(false)
    return withSwarm(await this.running.pulls.resume(), swarmStarted)
  }

  /** Sync now: dials the configured peers again (so online is fresh), restarts every interrupted pull and asks peers for newer subscribed versions. */
  async sync (): Promise<SyncResultInfo> {
    void this.running.monitor.probe()
    if (this.running.pulls.paused) return this.running.pulls.sync() // refused: paused
    const swarmStarted = await this.running.swarm.syncNow()
    this.running.personal.replicateNow()
    return withSwarm(await this.running.pulls.sync(), swarmStarted)
  }

  watch (onChange: () => void): Unsubscribe {
    this.listeners.add(onChange)
    return () => { this.listeners.delete(onChange) }
  }

  async exportImage (request: ExportRequest, onProgress: ProgressSink): Promise<ExportResultInfo> {
    const { blockstore, catalog } = this.running
    const ref = parseVersionRef(request.ref)
    const entry = await catalog.get(ref)
    if (entry.state !== 'complete') {
      throw new VersionIncompleteError(`${request.ref} is still being pulled; finish it with: cachepoint image pull ${request.ref}`)
    }
    const manifest = await catalog.manifest(ref)
    const format = parseDiskFormat(request.format ?? 'raw')
    return this.jobs.run('export', request.ref, onProgress, async (progress) => {
      const started = Date.now()
      if (format === 'raw') {
        await exportImage({ manifest, blockstore, file: request.file, overwrite: request.overwrite === true, onProgress: progress })
      } else {
        const report = throttledProgress('export:block', manifest.size, progress)
        let read = 0
        await exportConverted({ manifest, blockstore, format, file: request.file, overwrite: request.overwrite === true, onRead: (n) => { read = Math.min(manifest.size, read + n); report(read) } })
      }
      return { ref: request.ref, file: request.file, size: manifest.size, durationMs: Date.now() - started }
    })
  }

  async diff (from: string, to: string): Promise<DiffInfo> {
    const { catalog } = this.running
    const [a, b] = await Promise.all([catalog.manifest(parseVersionRef(from)), catalog.manifest(parseVersionRef(to))])
    const d = diffManifests(a, b)
    return {
      from,
      to,
      blockSize: b.blockSize,
      changedBlocks: d.changed.length,
      addedBlocks: d.added.length,
      removedBlocks: d.removed.length,
      unchangedBlocks: Math.min(a.blocks.length, b.blocks.length) - d.changed.length,
      fetchBlocks: d.fetch.length,
      fetchBytes: d.fetchBytes,
      changed: d.changed.slice(0, DIFF_INDEXES_LISTED)
    }
  }

  async peers (): Promise<PeerInfo[]> {
    const { libp2p } = this.running
    const byId = new Map<string, PeerInfo>()
    const configure = (addr: string): void => {
      const peerId = parseMultiaddr(addr).getComponents().find(c => c.name === 'p2p')?.value ?? addr
      const info = byId.get(peerId) ?? { peerId, addresses: [], connected: false, configured: true, role: 'unknown' }
      info.addresses.push(addr)
      byId.set(peerId, info)
    }
    for (const addr of this.config.peers) configure(addr)
    const store = this.config.personalStore
    for (const addr of [store?.address, ...(store?.fallbackAddresses ?? [])]) if (addr !== undefined) configure(addr)
    for (const connection of libp2p.getConnections()) {
      const peerId = connection.remotePeer.toString()
      const info = byId.get(peerId) ?? { peerId, addresses: [], connected: false, configured: false, role: 'unknown' }
      info.connected = true
      const addr = connection.remoteAddr.toString()
      if (!info.addresses.includes(addr)) info.addresses.push(addr)
      byId.set(peerId, info)
    }
    const storePeers = new Set([store?.address, ...(store?.fallbackAddresses ?? [])].flatMap(a => a === undefined ? [] : [parseMultiaddr(a).getComponents().find(c => c.name === 'p2p')?.value]))
    for (const info of byId.values()) Object.assign(info, await peerRole(libp2p, info.peerId, storePeers.has(info.peerId) ? info.peerId : undefined))
    return [...byId.values()]
  }

  async personalStatus (): Promise<PersonalStatusInfo[]> { return this.running.personal.personalStatus() }
  async personalLog (user: string): Promise<PersonalSnapshotInfo[]> { return this.running.personal.personalLog(user) }
  async personalSnapshot (user: string): Promise<PersonalSnapshotResultInfo> { return this.running.personal.personalSnapshot(user) }
  async personalRestore (request: PersonalRestoreRequest): Promise<PersonalRestoreResultInfo> { return this.running.personal.personalRestore(request) }

  async removeVersion (request: RemoveRequest): Promise<RemoveResultInfo> { return await this.running.lifecycleApi.removeVersion(request) }
  async prune (request: PruneRequest): Promise<PruneResultInfo> { return await this.running.lifecycleApi.prune(request) }
  async check (request: CheckRequest, onProgress: ProgressSink): Promise<CheckResultInfo> { return await this.running.lifecycleApi.check(request, onProgress) }

  async gc (): Promise<GcResultInfo> {
    const { blockstore, catalog, personal } = this.running
    const live = await catalog.liveCids()
    // personal snapshots share the block store: their sealed chunks and directory blocks are live too
    const result = await personal.collect(async personalLive => blockstore.gc(cid => live.has(cid.toString()) || personalLive.has(cid.toString())))
    this.logger.info(result, 'garbage collected')
    return result
  }
}

export function createDaemon (init: DaemonInit): CachePointDaemon {
  return new DefaultDaemon(init)
}
