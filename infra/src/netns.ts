import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Runs `ip ...` (or any command) and returns stdout; throws with stderr on failure. */
export async function sh (cmd: string, ...args: string[]): Promise<string> {
  try {
    return (await run(cmd, args, { maxBuffer: 1 << 24 })).stdout
  } catch (err) {
    const e = err as Error & { stderr?: string }
    throw new Error(`${cmd} ${args.join(' ')}: ${e.stderr?.trim() ?? e.message}`)
  }
}

export async function inNs (ns: string, cmd: string, ...args: string[]): Promise<string> {
  return await sh('ip', 'netns', 'exec', ns, cmd, ...args)
}

export interface SiteSpec {
  name: string
  hosts: number
  /** Uplink rate both ways (tc tbf), e.g. '20mbit'; unset: not shaped (the data center). */
  wanRate?: string
  /** Extra hosts whose link the scenario cuts and restores (laptops). */
  laptops?: number
}

export interface Host {
  name: string
  ns: string
  site: string
  ip: string
  laptop: boolean
  /** The host's veth end in its site's gateway namespace (down: link cut). */
  gwIf: string
}

export interface Topology {
  prefix: string
  sites: Array<SiteSpec & { gwNs: string, uplink: string, index: number }>
  hosts: Host[]
  routerNs: string
}

/** True when this process may create network namespaces (root with iproute2). */
export async function canMakeNamespaces (): Promise<{ ok: boolean, why?: string }> {
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root: network namespaces need root (CI runs as root)' }
  try { await sh('ip', '-V') } catch { return { ok: false, why: 'iproute2 (ip) is not installed' } }
  try { await sh('tc', '-V') } catch { return { ok: false, why: 'tc (iproute2) is not installed' } }
  return { ok: true }
}

/**
 * Builds the network: one router namespace (the WAN core), per site a gateway
 * namespace holding the site's bridge (the LAN, unshaped) and its uplink to the
 * router (shaped with tbf both ways), and one namespace per host on the site's
 * bridge. Addresses: site k is 10.k.0.0/24 (gateway .1, hosts .10+), uplink
 * 10.255.k.0/30. Nothing is reachable from outside these namespaces.
 */
export async function createTopology (prefix: string, specs: SiteSpec[]): Promise<Topology> {
  const topo: Topology = { prefix, sites: [], hosts: [], routerNs: `${prefix}-wan` }
  const made: string[] = []
  const addNs = async (ns: string): Promise<void> => {
    await sh('ip', 'netns', 'add', ns)
    made.push(ns)
    await inNs(ns, 'ip', 'link', 'set', 'lo', 'up')
  }
  try {
    await addNs(topo.routerNs)
    await inNs(topo.routerNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
    for (const [i, spec] of specs.entries()) {
      const k = i + 1
      const gwNs = `${prefix}-gw${k}`
      await addNs(gwNs)
      await inNs(gwNs, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
      // uplink: gw side "up", router side "wan<k>"
      await sh('ip', 'link', 'add', `${prefix}u${k}`, 'netns', gwNs, 'type', 'veth', 'peer', 'name', `${prefix}w${k}`, 'netns', topo.routerNs)
      await inNs(gwNs, 'ip', 'link', 'set', `${prefix}u${k}`, 'name', 'up0')
      await inNs(topo.routerNs, 'ip', 'link', 'set', `${prefix}w${k}`, 'name', `wan${k}`)
      await inNs(gwNs, 'ip', 'addr', 'add', `10.255.${k}.2/30`, 'dev', 'up0')
      await inNs(topo.routerNs, 'ip', 'addr', 'add', `10.255.${k}.1/30`, 'dev', `wan${k}`)
      await inNs(gwNs, 'ip', 'link', 'set', 'up0', 'up')
      await inNs(topo.routerNs, 'ip', 'link', 'set', `wan${k}`, 'up')
      await inNs(gwNs, 'ip', 'route', 'add', 'default', 'via', `10.255.${k}.1`)
      await inNs(topo.routerNs, 'ip', 'route', 'add', `10.${k}.0.0/24`, 'via', `10.255.${k}.2`)
      if (spec.wanRate !== undefined) {
        const tbf = ['qdisc', 'add', 'dev', 'X', 'root', 'tbf', 'rate', spec.wanRate, 'burst', '64kb', 'latency', '100ms']
        await inNs(gwNs, 'tc', ...tbf.map(a => a === 'X' ? 'up0' : a))
        await inNs(topo.routerNs, 'tc', ...tbf.map(a => a === 'X' ? `wan${k}` : a))
      }
      await inNs(gwNs, 'ip', 'link', 'add', 'br0', 'type', 'bridge')
      await inNs(gwNs, 'ip', 'addr', 'add', `10.${k}.0.1/24`, 'dev', 'br0')
      await inNs(gwNs, 'ip', 'link', 'set', 'br0', 'up')
      topo.sites.push({ ...spec, gwNs, uplink: 'up0', index: k })
      const total = spec.hosts + (spec.laptops ?? 0)
      for (let h = 0; h < total; h++) {
        const laptop = h >= spec.hosts
        const name = laptop ? `${spec.name}-laptop${h - spec.hosts + 1}` : `${spec.name}-${h + 1}`
        const ns = `${prefix}-s${k}h${h + 1}`
        const ip = `10.${k}.0.${10 + h}`
        await addNs(ns)
        const gwIf = `h${h + 1}`
        await sh('ip', 'link', 'add', `${prefix}a${k}${h}`, 'netns', ns, 'type', 'veth', 'peer', 'name', `${prefix}b${k}${h}`, 'netns', gwNs)
        await inNs(ns, 'ip', 'link', 'set', `${prefix}a${k}${h}`, 'name', 'eth0')
        await inNs(gwNs, 'ip', 'link', 'set', `${prefix}b${k}${h}`, 'name', gwIf)
        await inNs(gwNs, 'ip', 'link', 'set', gwIf, 'master', 'br0', 'up')
        await inNs(ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0')
        await inNs(ns, 'ip', 'link', 'set', 'eth0', 'up')
        await inNs(ns, 'ip', 'route', 'add', 'default', 'via', `10.${k}.0.1`)
        topo.hosts.push({ name, ns, site: spec.name, ip, laptop, gwIf })
      }
    }
    return topo
  } catch (err) {
    await deleteNamespaces(made)
    throw err
  }
}

/** Cuts (down) or restores (up) a host's link to its site. */
export async function setLink (topo: Topology, host: Host, up: boolean): Promise<void> {
  const site = topo.sites.find(s => s.name === host.site)
  if (site === undefined) throw new Error(`no site ${host.site}`)
  await inNs(site.gwNs, 'ip', 'link', 'set', host.gwIf, up ? 'up' : 'down')
}

/** Bytes that entered (rx) and left (tx) a site over its uplink, as the gateway's interface counts them. */
export async function wanCounters (topo: Topology, siteName: string): Promise<{ rx: number, tx: number }> {
  const site = topo.sites.find(s => s.name === siteName)
  if (site === undefined) throw new Error(`no site ${siteName}`)
  const read = async (what: string): Promise<number> => Number((await inNs(site.gwNs, 'cat', `/sys/class/net/up0/statistics/${what}_bytes`)).trim())
  return { rx: await read('rx'), tx: await read('tx') }
}

async function deleteNamespaces (names: string[]): Promise<void> {
  for (const ns of names.reverse()) await sh('ip', 'netns', 'del', ns).catch(() => {})
}

/** Deletes every namespace whose name starts with `prefix-` (the veths and bridges go with them). */
export async function destroyTopology (prefix: string): Promise<void> {
  const list = await sh('ip', 'netns', 'list').catch(() => '')
  const names = list.split('\n').map(l => l.split(' ')[0]).filter(n => n.startsWith(`${prefix}-`))
  await deleteNamespaces(names)
}
