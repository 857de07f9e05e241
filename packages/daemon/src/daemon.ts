import { join } from 'node:path'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import {
  createControlServer, publishEndpoint, withdrawEndpoint, loadOrCreateToken,
  type CachePointApi, type ControlServer, type DiffInfo, type ExportRequest, type ExportResultInfo, type GcResultInfo,
  type ImageVersionInfo, type ImportRequest, type ImportResultInfo, type PeerInfo, type ProgressSink, type PullRequest,
  type PullResultInfo, type StatusInfo
} from '@cachecloud/control'
import { formatVersionRef, parseVersionRef } from '@cachecloud/core'
import { createCatalog, diffManifests, exportImage, importImage, VersionIncompleteError, type Catalog, type CatalogEntry } from '@cachecloud/image'
import { createTrustStore, formatPublicKey, type PublisherKey } from '@cachecloud/manifest'
import { createNetwork, parseMultiaddr, type CachePointLibp2p } from '@cachecloud/network'
import { createTransfer, type Transfer } from '@cachecloud/transfer'
import type { Logger } from 'pino'
import { loadKeys, type CachePointConfig } from './config.js'
import { BLOCKS_DIR, CATALOG_DIR } from './constants.js'
import { NoPeersError } from './errors.js'
import { JobTracker } from './jobs.js'
import { lockDataDir } from './lock.js'

export interface DaemonInit {
  config: CachePointConfig
  logger: Logger
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
  control: ControlServer
  publisherKey: PublisherKey
  unlock: () => Promise<void>
}

/** A CachePoint: block store, catalog, libp2p host, transfer protocols and the control API. */
export interface CachePointDaemon extends CachePointApi {
  /** Locks the data directory and starts every part; resolves once the control API is reachable. */
  start(): Promise<{ controlUrl: string, peerId: string, addresses: string[] }>
  /** Stops every part and releases the data directory. */
  stop(): Promise<void>
}

export function createDaemon (init: DaemonInit): CachePointDaemon {
  return new DefaultDaemon(init)
}

class DefaultDaemon implements CachePointDaemon {
  private readonly config: CachePointConfig
  private readonly logger: Logger
  private readonly jobs = new JobTracker()
  private readonly startedAt = Date.now()
  private parts?: Running

  constructor (init: DaemonInit) {
    this.config = init.config
    this.logger = init.logger
  }

  private get running (): Running {
    if (this.parts === undefined) throw new Error('CachePoint daemon is not started')
    return this.parts
  }

  /** Starts every part; returns the control API URL. */
  async start (): Promise<{ controlUrl: string, peerId: string, addresses: string[] }> {
    const { dataDir } = this.config
    const unlock = await lockDataDir(dataDir)
    try {
      const { peerKey, publisherKey } = await loadKeys(dataDir)
      const trust = createTrustStore([...this.config.trustedPublishers, formatPublicKey(publisherKey.publicKey)])
      const blockstore = createBlockstore({ path: join(dataDir, BLOCKS_DIR) })
      await blockstore.start()
      const catalog = createCatalog({ path: join(dataDir, CATALOG_DIR), blockstore })
      await catalog.start()
      const libp2p = await createNetwork({ privateKey: peerKey, listen: this.config.listen })
      const transfer = createTransfer({ libp2p, blockstore, catalog, trust, logger: this.logger.child({ component: 'transfer' }) })
      await transfer.start()
      const token = await loadOrCreateToken(dataDir)
      const control = createControlServer({ api: this, token, port: this.config.controlPort, logger: this.logger.child({ component: 'control' }) })
      const { url } = await control.start()
      await publishEndpoint(dataDir, { url, pid: process.pid })
      this.parts = { blockstore, catalog, libp2p, transfer, control, publisherKey, unlock }
      const addresses = libp2p.getMultiaddrs().map(String)
      this.logger.info({ peerId: libp2p.peerId.toString(), addresses, controlUrl: url, publisherKey: formatPublicKey(publisherKey.publicKey) }, 'CachePoint started')
      return { controlUrl: url, peerId: libp2p.peerId.toString(), addresses }
    } catch (err) {
      await unlock()
      throw err
    }
  }

  async stop (): Promise<void> {
    const parts = this.parts
    if (parts === undefined) return
    this.parts = undefined
    await withdrawEndpoint(this.config.dataDir)
    await parts.control.stop()
    await parts.transfer.stop()
    await parts.libp2p.stop()
    await parts.catalog.stop()
    await parts.blockstore.stop()
    await parts.unlock()
    this.logger.info('CachePoint stopped')
  }

  async status (): Promise<StatusInfo> {
    const { blockstore, catalog, libp2p, publisherKey } = this.running
    const [stats, entries] = await Promise.all([blockstore.stats(), catalog.list()])
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
      connections: libp2p.getConnections().length
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
        name: request.name,
        version: request.version,
        blockSize: request.blockSize ?? this.config.blockSize,
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
    const { transfer } = this.running
    const ref = parseVersionRef(request.ref)
    const sources = (request.from !== undefined && request.from.length > 0) ? request.from : this.config.peers
    if (sources.length === 0) throw new NoPeersError(`no peer to pull ${request.ref} from: pass --from MULTIADDR or add peers to the config`)
    const peers = sources.map(parseMultiaddr)
    return this.jobs.run('pull', request.ref, onProgress, async (progress) => {
      const result = await transfer.pull({ ref, peers, onProgress: progress })
      const info: PullResultInfo = {
        ref: request.ref,
        cid: result.cid.toString(),
        fetchedBlocks: result.fetchedBlocks,
        fetchedBytes: result.fetchedBytes,
        wireBytes: result.wireBytes,
        heldBlocks: result.heldBlocks,
        holes: result.holes,
        durationMs: result.durationMs,
        bytesByPeer: result.bytesByPeer
      }
      this.logger.info(info, 'image pulled')
      return info
    })
  }

  async exportImage (request: ExportRequest, onProgress: ProgressSink): Promise<ExportResultInfo> {
    const { blockstore, catalog } = this.running
    const ref = parseVersionRef(request.ref)
    const entry = await catalog.get(ref)
    if (entry.state !== 'complete') {
      throw new VersionIncompleteError(`${request.ref} is still being pulled; finish it with: cachepoint image pull ${request.ref}`)
    }
    const manifest = await catalog.manifest(ref)
    return this.jobs.run('export', request.ref, onProgress, async (progress) => {
      const started = Date.now()
      await exportImage({ manifest, blockstore, file: request.file, overwrite: request.overwrite === true, onProgress: progress })
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
      fetchBytes: d.fetchBytes
    }
  }

  async peers (): Promise<PeerInfo[]> {
    const { libp2p } = this.running
    const byId = new Map<string, PeerInfo>()
    for (const addr of this.config.peers) {
      const peerId = parseMultiaddr(addr).getComponents().find(c => c.name === 'p2p')?.value ?? addr
      const info = byId.get(peerId) ?? { peerId, addresses: [], connected: false, configured: true }
      info.addresses.push(addr)
      byId.set(peerId, info)
    }
    for (const connection of libp2p.getConnections()) {
      const peerId = connection.remotePeer.toString()
      const info = byId.get(peerId) ?? { peerId, addresses: [], connected: false, configured: false }
      info.connected = true
      const addr = connection.remoteAddr.toString()
      if (!info.addresses.includes(addr)) info.addresses.push(addr)
      byId.set(peerId, info)
    }
    return [...byId.values()]
  }

  async gc (): Promise<GcResultInfo> {
    const { blockstore, catalog } = this.running
    const live = await catalog.liveCids()
    const result = await blockstore.gc(cid => live.has(cid.toString()))
    this.logger.info(result, 'garbage collected')
    return result
  }
}
