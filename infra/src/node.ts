/**
 * One CacheCloud node for the simulation, run inside a network namespace by
 * the harness: block store, catalog, libp2p host (site label, optional
 * network key, bootstrap, mDNS), transfer protocols and the swarm. It takes
 * commands as JSON lines on stdin and answers (and reports events) as JSON
 * lines on stdout; logs go to a file. A stand-in for `cachepoint daemon`
 * until the daemon wires the swarm (see infra/README.md).
 */
import '@cachecloud/core/polyfill'
import { createWriteStream } from 'node:fs'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { parseVersionRef } from '@cachecloud/core'
import { createBlockstore } from '@cachecloud/blockstore'
import { createCatalog, exportImage, importImage } from '@cachecloud/image'
import { createTrustStore, loadPublisherKey } from '@cachecloud/manifest'
import { createNetwork, loadOrCreatePeerKey } from '@cachecloud/network'
import { createSwarm, type WanRateConfig } from '@cachecloud/swarm'
import { createTransfer } from '@cachecloud/transfer'
import { out, runChild, serveCommands } from './child-protocol.js'

export interface NodeConfig {
  dataDir: string
  listen: string[]
  site: string
  trust: string[]
  /** Publisher key file (only on the publisher). */
  publisherKeyFile?: string
  networkKeyFile?: string
  /** Peer ids allowed to connect (the allow-list instead of, or beside, the network key). */
  allowPeers?: string[]
  bootstrap?: string[]
  mdns?: boolean
  wan?: WanRateConfig
  subscriptions?: Array<{ name: string, policy?: 'auto' | 'manual' }>
  /** How often the node sends its rollout reports (daemon config "rolloutIntervalSeconds"). Default: the swarm's. */
  rolloutIntervalSeconds?: number
}

export type Command =
  | { id: number, cmd: 'import', file: string, name: string, version: string }
  | { id: number, cmd: 'publish' | 'plan' | 'pull', ref: string }
  | { id: number, cmd: 'export', ref: string, file: string }
  | { id: number, cmd: 'status' }
  | { id: number, cmd: 'pause' | 'resume' }
  | { id: number, cmd: 'rollout', ref: string }
  /** What an observer (observer.ts) heard: rollout reports per sender, with arrival times. */
  | { id: number, cmd: 'reports' }
  | { id: number, cmd: 'stop' }

async function main (): Promise<void> {
  const config = JSON.parse(await readFile(process.argv[2], 'utf8')) as NodeConfig
  await mkdir(config.dataDir, { recursive: true })
  const logger = pino({ level: 'debug' }, createWriteStream(join(config.dataDir, 'node.log'), { flags: 'a' }))
  const blockstore = createBlockstore({ path: join(config.dataDir, 'blocks') })
  await blockstore.start()
  const catalog = createCatalog({ path: join(config.dataDir, 'catalog'), blockstore })
  await catalog.start()
  const libp2p = await createNetwork({
    privateKey: await loadOrCreatePeerKey(join(config.dataDir, 'peer.key')),
    listen: config.listen,
    site: config.site,
    bootstrap: config.bootstrap,
    mdns: config.mdns,
    networkKey: config.networkKeyFile !== undefined ? await readFile(config.networkKeyFile) : undefined,
    allowPeers: config.allowPeers,
    logger
  })
  const trust = createTrustStore(config.trust)
  const key = config.publisherKeyFile !== undefined ? await loadPublisherKey(config.publisherKeyFile) : undefined
  const swarm = createSwarm({
    libp2p, blockstore, catalog, trust, publisherKey: key, logger, site: config.site, wan: config.wan, subscriptions: config.subscriptions,
    ...(config.rolloutIntervalSeconds !== undefined ? { rolloutIntervalMs: config.rolloutIntervalSeconds * 1000 } : {}),
    onEvent: (event) => { out({ event: event.type, ref: event.ref, status: swarm.status().find(s => s.ref === event.ref) }) }
  })
  const transfer = createTransfer({ libp2p, blockstore, catalog, trust, logger, advertisePulling: true, sendBudget: swarm.sendBudget })
  await transfer.start()
  await swarm.start()

  const handle = async (c: Command): Promise<unknown> => {
    switch (c.cmd) {
      case 'import': {
        if (key === undefined) throw new Error('not a publisher')
        const { cid, stats } = await importImage({ file: c.file, name: c.name, version: c.version, blockstore, catalog, key })
        return { cid: cid.toString(), ...stats }
      }
      case 'publish': return await swarm.publish(parseVersionRef(c.ref))
      case 'plan': return await swarm.plan(parseVersionRef(c.ref))
      case 'pull': { const { manifest: _m, ...rest } = await swarm.pull(parseVersionRef(c.ref)); return rest }
      case 'export': {
        const ref = parseVersionRef(c.ref)
        return await exportImage({ manifest: await catalog.manifest(ref), blockstore, file: c.file, overwrite: true })
      }
      case 'status': return { peerId: libp2p.peerId.toString(), peers: libp2p.getPeers().length, pulls: swarm.status(), totals: swarm.totals(), versions: (await catalog.list()).map(e => ({ ref: `${e.name}@${e.version}`, state: e.state })) }
      case 'pause': return { paused: await swarm.pause() }
      case 'resume': return { started: await swarm.resume() }
      case 'rollout': return await swarm.rollout(parseVersionRef(c.ref))
      case 'reports': throw new Error('not an observer')
      case 'stop': {
        await swarm.stop(); await transfer.stop(); await libp2p.stop(); await catalog.stop(); await blockstore.stop()
        setImmediate(() => process.exit(0))
        return {}
      }
    }
  }

  // a progress line a second per running pull, for the harness's timeline
  setInterval(() => {
    for (const st of swarm.status()) if (st.state === 'pulling') logger.info({ trace: true, ref: st.ref, blocksDone: st.blocksDone, blocksTotal: st.blocksTotal, lanBytes: st.lanBytes, wanBytes: st.wanBytes, rate: Math.round(st.rate), peers: libp2p.getPeers().length }, 'progress')
  }, 1000).unref()
  out({ event: 'ready', peerId: libp2p.peerId.toString(), addrs: libp2p.getMultiaddrs().map(String) })
  await serveCommands(handle)
}

runChild(main)
