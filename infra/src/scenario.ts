import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { makeExt4Image, sha256File, updateImage } from '@cachecloud/fixtures'
import { formatPublicKey, generatePublisherKey, savePublisherKey } from '@cachecloud/manifest'
import { generateNetworkKey, loadOrCreatePeerKey } from '@cachecloud/network'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { initDaemonDir, SimNode } from './cluster.js'
import { countFetches, duplicateFetches, duplicates, readWanFetches, type DuplicateFetch } from './wanlog.js'
import { createTopology, destroyTopology, setLink, wanCounters, type SiteSpec, type Topology } from './netns.js'

export interface ScenarioInit {
  /** Image size. Default 64 MiB. */
  sizeMiB?: number
  /** Branch uplink rate (tbf). Default '40mbit'. */
  wanRate?: string
  /** Branches and hosts per branch. Default 2 x 3, plus one laptop in the first. */
  branches?: number
  hostsPerBranch?: number
  /** Cut the laptop's link during v1 for this long. Default 3000 ms; 0: no cut. */
  laptopCutMs?: number
  /** Kill (SIGKILL) one branch node this long after v1 is published and restart it 2 s later. Default: no kill. */
  killAfterMs?: number
  /** Sites to build instead of the standard ones (the first is the data center: publisher first, unshaped). */
  sites?: SiteSpec[]
  /** Image files to publish instead of generated ones (v2 an update of v1), read in place: the swarm benchmark's real OS images. */
  images?: { v1: string, v2: string }
  /** Versions to publish. Default: both (v1, then the update v2). */
  versions?: Array<'v1' | 'v2'>
  /** Called with the built network and the image file before the nodes stop (the benchmark's HTTP baseline). */
  beforeTeardown?: (topo: Topology, v1File: string) => Promise<void>
  /**
   * Who may connect: `networkKey` (default: one shared private-network key; every byte also goes
   * through its XSalsa20 cipher) or `allowList` (every node's peer id, made beforehand; Noise only).
   */
  membership?: 'networkKey' | 'allowList'
  /** `daemon` (default): real `cachepoint daemon` processes; `runner`: the lighter node.ts. */
  nodes?: 'daemon' | 'runner'
  /** Fail when a node has not pulled a version after this long. Default: 600 s. */
  pullTimeoutMs?: number
  /** Namespace name prefix (also the cleanup key). */
  prefix?: string
  /** Keep the data directories (node logs) for a look afterwards. */
  keep?: boolean
  /** Progress lines (the harness prints, libraries do not). */
  log?: (line: string) => void
}

export interface NodeRow { node: string, site: string, version: string, seconds: number, lanBytes: number, wanBytes: number, sha256Ok: boolean }
export interface SiteRow {
  site: string
  version: string
  wanRxBytes: number
  /** Block bytes the site's nodes received from other sites, uncompressed (the swarm's wanBytes) and as they crossed (wanWireBytes). */
  swarmWanBytes: number
  swarmWanWireBytes: number
  deltaBytes: number
  /** Blocks stored from other sites by the site's nodes (all runs of a restarted node), and how many of them more than once. */
  wanBlocks: number
  dupBlocks: number
  dupFetches: number
  /** For each block stored more than once: who stored it, when, in which run and from which peer. */
  dupDetail?: DuplicateFetch[]
}
export interface ScenarioReport {
  nodes: NodeRow[]
  sites: SiteRow[]
  versions: Array<{ version: string, deltaBytes: number, seconds: number }>
  /** Nodes the scenario cut off or killed during v1. */
  disrupted?: string[]
}

/**
 * The standard scenario: a data center (publisher and seed) and branches of
 * three nodes (one with a laptop) behind shaped uplinks, all subscribed to
 * `os`. The publisher imports and publishes v1, then v2 (an OS-like update);
 * every node pulls on its own; the laptop's link is cut and restored during
 * v1. Every export is checked against the original's SHA-256.
 */
export async function runScenario (init: ScenarioInit = {}): Promise<ScenarioReport> {
  const log = init.log ?? (() => {})
  const prefix = init.prefix ?? `ccs${process.pid % 10000}`
  const dir = await mkdtemp(join(tmpdir(), 'cc-sim-'))
  const nodes: SimNode[] = []
  let topo: Topology | undefined
  try {
    const files = init.images ?? await makeImages(dir, init.sizeMiB ?? 64, log)
    if (init.images !== undefined) log(`images: ${files.v1} and its update ${files.v2}`)
    const sha = { v1: await sha256File(files.v1), v2: await sha256File(files.v2) }

    const branches = init.branches ?? 2
    const specs: SiteSpec[] = init.sites ?? [{ name: 'dc', hosts: 2 }]
    if (init.sites === undefined) for (let b = 1; b <= branches; b++) specs.push({ name: `b${b}`, hosts: init.hostsPerBranch ?? 3, laptops: b === 1 ? 1 : 0, wanRate: init.wanRate ?? '40mbit' })
    log(`network: ${specs.map(s => `${s.name} ${s.hosts + (s.laptops ?? 0)} hosts${s.wanRate !== undefined ? ` @ ${s.wanRate}` : ''}`).join(', ')}`)
    topo = await createTopology(prefix, specs)
    const net = topo

    const key = generatePublisherKey()
    await savePublisherKey(join(dir, 'publisher.key'), key)
    await writeFile(join(dir, 'swarm.key'), generateNetworkKey())
    // the allow-list needs every peer id up front: make each node's identity now (init and node.ts load it)
    const allowPeers = init.membership === 'allowList'
      ? await Promise.all(topo.hosts.map(async h => { await mkdir(join(dir, h.name), { recursive: true }); return peerIdFromPrivateKey(await loadOrCreatePeerKey(join(dir, h.name, 'peer.key'))).toString() }))
      : undefined
    const base = (host: (typeof net.hosts)[number]) => ({
      dataDir: join(dir, host.name), listen: ['/ip4/0.0.0.0/tcp/4001'], site: host.site, trust: [formatPublicKey(key.publicKey)],
      ...(allowPeers !== undefined ? { allowPeers } : { networkKeyFile: join(dir, 'swarm.key') }), mdns: true, subscriptions: [{ name: 'os' }]
    })
    const [pubHost, ...others] = topo.hosts
    const kind = init.nodes ?? 'daemon'
    const pubConfig = { ...base(pubHost), publisherKeyFile: join(dir, 'publisher.key'), subscriptions: [] }
    // a real daemon signs with its own publisher key, made by init: the others trust that one
    const trust = kind === 'daemon' ? [await initDaemonDir(pubConfig)] : pubConfig.trust
    const publisher = new SimNode(pubHost, pubConfig, dir, kind)
    await publisher.start()
    nodes.push(publisher)
    for (const host of others) {
      const config = { ...base(host), trust, bootstrap: [publisher.addr] }
      if (kind === 'daemon') await initDaemonDir(config)
      nodes.push(new SimNode(host, config, dir, kind))
    }
    // a few at a time: a dozen daemons starting at once on two cores time out
    for (let i = 1; i < nodes.length; i += 4) await Promise.all(nodes.slice(i, i + 4).map(async n => { await n.start() }))
    const subscribers = nodes.slice(1)
    await new Promise(resolve => setTimeout(resolve, 2000)) // connections and subscriptions settle

    const report: ScenarioReport = { nodes: [], sites: [], versions: [], disrupted: [] }
    for (const version of init.versions ?? ['v1', 'v2'] as const) {
      const ref = `os@${version}`
      const imported = await publisher.call<{ newBytes: number }>({ cmd: 'import', file: files[version], name: 'os', version })
      const before = await Promise.all(topo.sites.map(async s => await wanCounters(topo!, s.name)))
      const t0 = Date.now()
      log(`${ref}: imported (${(imported.newBytes / 2 ** 20).toFixed(1)} MiB new), publishing`)
      await publisher.call({ cmd: 'publish', ref })
      const laptop = subscribers.find(n => n.host.laptop)
      if (version === 'v1' && laptop !== undefined && (init.laptopCutMs ?? 3000) > 0) {
        setTimeout(() => {
          void (async () => {
            await setLink(topo!, laptop.host, false)
            report.disrupted?.push(laptop.host.name)
            log(`${laptop.host.name}: link cut`)
            await new Promise(resolve => setTimeout(resolve, init.laptopCutMs ?? 3000))
            await setLink(topo!, laptop.host, true)
            log(`${laptop.host.name}: link restored`)
          })()
        }, 1500)
      }
      const victim = subscribers.find(n => n.host.site === 'b2' && !n.host.laptop && n.host.name.endsWith('-2'))
      if (version === 'v1' && victim !== undefined && init.killAfterMs !== undefined) {
        setTimeout(() => {
          victim.kill()
          report.disrupted?.push(victim.host.name)
          log(`${victim.host.name}: killed`)
          setTimeout(() => { victim.start().then(() => { log(`${victim.host.name}: restarted`) }, (err: Error) => { log(`${victim.host.name}: restart failed: ${err.message}`) }) }, 2000)
        }, init.killAfterMs)
      }
      const done = await Promise.all(subscribers.map(async n => {
        const e = await n.waitEvent(ev => ev.event === 'pulled' && ev.ref === ref, init.pullTimeoutMs ?? 600_000)
        const status = e.status as { lanBytes: number, wanBytes: number, wanWireBytes?: number }
        log(`${ref}: ${n.host.name} done in ${((Number(e.at) - t0) / 1000).toFixed(1)} s`)
        return { n, seconds: (Number(e.at) - t0) / 1000, status }
      }))
      report.versions.push({ version, deltaBytes: imported.newBytes, seconds: Math.max(...done.map(d => d.seconds)) })
      const after = await Promise.all(topo.sites.map(async s => await wanCounters(topo!, s.name)))
      for (const d of done) {
        const file = join(dir, `${d.n.host.name}-${version}.raw`)
        await d.n.call({ cmd: 'export', ref, file })
        const ok = await sha256File(file) === sha[version]
        await rm(file, { force: true })
        report.nodes.push({
          node: d.n.host.name,
          site: d.n.host.site,
          version,
          seconds: d.seconds,
          lanBytes: d.status.lanBytes,
          wanBytes: d.status.wanBytes,
          sha256Ok: ok
        })
      }
      for (const [i, s] of topo.sites.entries()) {
        const members = subscribers.filter(n => n.host.site === s.name)
        const here = done.filter(d => d.n.host.site === s.name)
        const swarmWan = here.reduce((sum, d) => sum + d.status.wanBytes, 0)
        const swarmWanWire = here.reduce((sum, d) => sum + (d.status.wanWireBytes ?? d.status.wanBytes), 0)
        const fetched = await Promise.all(members.map(async n => ({ node: n.host.name, fetches: await readWanFetches(n.config.dataDir, n.kind, ref) })))
        const counts = countFetches(fetched.map(f => f.fetches))
        const dup = duplicates(counts)
        report.sites.push({
          site: s.name,
          version,
          wanRxBytes: after[i].rx - before[i].rx,
          swarmWanBytes: swarmWan,
          swarmWanWireBytes: swarmWanWire,
          deltaBytes: imported.newBytes,
          wanBlocks: counts.size,
          dupBlocks: dup.blocks,
          dupFetches: dup.extra,
          dupDetail: duplicateFetches(fetched, counts, t0)
        })
      }
    }
    if (init.beforeTeardown !== undefined) {
      await Promise.all(nodes.map(async n => { await n.stop() }))
      await init.beforeTeardown(net, files.v1)
    }
    return report
  } finally {
    await Promise.all(nodes.map(async n => { await n.stop() }))
    await destroyTopology(prefix)
    if (init.keep === true || process.env.CACHECLOUD_SIM_KEEP === '1') log(`kept ${dir}`)
    else await rm(dir, { recursive: true, force: true })
  }
}

/** An ext4 image with files (packages/fixtures) and an OS-like update of it, in `dir`. */
async function makeImages (dir: string, sizeMiB: number, log: (line: string) => void): Promise<{ v1: string, v2: string }> {
  log(`images: ${sizeMiB} MiB ext4, v1 and an OS-like update v2`)
  const v1 = await makeExt4Image({ path: join(dir, 'v1.raw'), sizeMiB, seed: 1 })
  const v2 = join(dir, 'v2.raw')
  await copyFile(v1.path, v2)
  await updateImage(v2, { seed: 2, changedFiles: 6, newFiles: 3, newBytes: 2 * 1024 * 1024 })
  return { v1: v1.path, v2 }
}

const mib = (b: number): string => (b / 2 ** 20).toFixed(1)

/** The per-node and per-site table `npm run sim` prints. */
export function formatReport (r: ScenarioReport): string {
  const lines = ['node            site  ver   time s   LAN MiB   WAN MiB  sha256']
  for (const n of r.nodes) lines.push(`${n.node.padEnd(15)} ${n.site.padEnd(5)} ${n.version.padEnd(4)} ${n.seconds.toFixed(1).padStart(7)} ${mib(n.lanBytes).padStart(9)} ${mib(n.wanBytes).padStart(9)}  ${n.sha256Ok ? 'ok' : 'MISMATCH'}`)
  lines.push('', 'site  ver   delta MiB  WAN in MiB (link)  WAN MiB (swarm)  WAN in / delta  WAN blocks  fetched twice+')
  for (const s of r.sites) {
    if (s.site === 'dc') continue
    lines.push(`${s.site.padEnd(5)} ${s.version.padEnd(4)} ${mib(s.deltaBytes).padStart(10)} ${mib(s.wanRxBytes).padStart(18)} ${mib(s.swarmWanBytes).padStart(16)} ${(s.wanRxBytes / s.deltaBytes).toFixed(2).padStart(15)} ${String(s.wanBlocks).padStart(11)} ${`${s.dupBlocks} (+${s.dupFetches})`.padStart(15)}`)
  }
  for (const v of r.versions) lines.push(`${v.version}: every node done in ${v.seconds.toFixed(1)} s`)
  return lines.join('\n')
}
