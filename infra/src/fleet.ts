import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateNetworkKey } from '@cachecloud/network'
import { initDaemonDir, SimNode } from './cluster.js'
import { createTopology, destroyTopology, type Host, type SiteSpec, type Topology } from './netns.js'
import type { NodeConfig } from './node.js'

export interface FleetInit {
  /** Namespace name prefix (also the cleanup key). */
  prefix: string
  /** Work directory: data directories, the network key. */
  dir: string
  /** The first site's first host is the publisher (subscribed to nothing); every other host subscribes. */
  sites: SiteSpec[]
  subscriptions?: NodeConfig['subscriptions']
  /** Daemon config "rolloutIntervalSeconds". Default: the daemon's (60 s). */
  rolloutIntervalSeconds?: number
  /** Daemons started at once (a dozen starting together on two cores time out). Default 4. */
  startBatch?: number
  /** Progress lines (the harness prints, libraries do not). */
  log?: (line: string) => void
}

export interface Fleet {
  topo: Topology
  publisher: SimNode
  /** Every node, the publisher first. */
  nodes: SimNode[]
  networkKeyFile: string
  byName: (name: string) => SimNode
  /** Stops every node and deletes the namespaces. */
  stop: () => Promise<void>
}

/**
 * Builds the sites in namespaces and starts a real `cachepoint daemon` on every host (with its relay):
 * one network key, mDNS on each site's bridge, every node bootstrapped to the publisher and trusting
 * the publisher daemon's own key.
 */
export async function startDaemonFleet (init: FleetInit): Promise<Fleet> {
  const topo = await createTopology(init.prefix, init.sites)
  const nodes: SimNode[] = []
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map(async n => { await n.stop() }))
    await destroyTopology(init.prefix)
  }
  try {
    const networkKeyFile = join(init.dir, 'swarm.key')
    await writeFile(networkKeyFile, generateNetworkKey())
    const base = (host: Host): NodeConfig => ({
      dataDir: join(init.dir, host.name), listen: ['/ip4/0.0.0.0/tcp/4001'], site: host.site, trust: [], networkKeyFile, mdns: true,
      subscriptions: init.subscriptions ?? [{ name: 'os' }],
      ...(init.rolloutIntervalSeconds !== undefined ? { rolloutIntervalSeconds: init.rolloutIntervalSeconds } : {})
    })
    const [pubHost, ...others] = topo.hosts
    const pubConfig = { ...base(pubHost), subscriptions: [] }
    const trust = [await initDaemonDir(pubConfig)]
    const publisher = new SimNode(pubHost, pubConfig, init.dir, 'daemon')
    nodes.push(publisher)
    await publisher.start()
    const rest: SimNode[] = []
    for (const host of others) {
      const config = { ...base(host), trust, bootstrap: [publisher.addr] }
      await initDaemonDir(config)
      rest.push(new SimNode(host, config, init.dir, 'daemon'))
    }
    nodes.push(...rest)
    const batch = init.startBatch ?? 4
    for (let i = 0; i < rest.length; i += batch) {
      const t0 = Date.now()
      const started = rest.slice(i, i + batch)
      await Promise.all(started.map(async n => { await n.start() }))
      init.log?.(`${started.map(n => n.host.name).join(', ')} started in ${Date.now() - t0} ms`)
    }
    const byName = (name: string): SimNode => {
      const n = nodes.find(x => x.host.name === name)
      if (n === undefined) throw new Error(`no node ${name}`)
      return n
    }
    return { topo, publisher, nodes, networkKeyFile, byName, stop }
  } catch (err) {
    await stop()
    throw err
  }
}
