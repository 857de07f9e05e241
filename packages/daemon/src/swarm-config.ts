import { parseMultiaddr, parseNetworkKey } from '@cachecloud/network'
import { parseRate, type WanRateConfig } from '@cachecloud/swarm'
import { ConfigError } from './errors.js'

/** Config of swarm distribution (issue 4); every field optional. */
export interface SwarmConfig {
  /** Site label (e.g. `branch-paris`): peers with the same label are LAN. */
  site?: string
  /** WAN rate budget for transfers with peers of other sites: `{ "maxRate": "20mbit", "schedule": [{ "from": 8, "to": 18, "maxRate": "2mbit" }] }`. */
  wan?: WanRateConfig
  /** Organization network key (swarm.key text, or a path to the file): only nodes with it can connect. */
  networkKey?: string
  /** Peer ids allowed to connect; unset: any peer (with the network key, if set). */
  allowPeers?: string[]
  /** Peers dialled at start and kept connected (multiaddrs with /p2p/). */
  bootstrap?: string[]
  /** Find same-network peers with mDNS. Default: false. */
  mdns?: boolean
  /** Images whose announced versions this node pulls (auto) or only records (manual). */
  subscriptions?: Array<{ name: string, policy: 'auto' | 'manual' }>
}

function fail (path: string, why: string): never {
  throw new ConfigError(`config ${path}: ${why}`)
}

/** Reads and checks the swarm fields of a config document; each problem is one line naming the field. */
export function parseSwarmConfig (doc: Record<string, unknown>, path: string): SwarmConfig {
  const out: SwarmConfig = {}
  if (doc.site !== undefined) {
    if (typeof doc.site !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(doc.site)) fail(path, '"site" must be a label of letters, digits, ".", "_" or "-"')
    out.site = doc.site
  }
  if (doc.wan !== undefined) {
    const wan = doc.wan as WanRateConfig
    if (typeof wan !== 'object' || wan === null) fail(path, '"wan" must be an object like { "maxRate": "20mbit" }')
    try {
      if (wan.maxRate !== undefined) parseRate(wan.maxRate)
      for (const s of wan.schedule ?? []) parseRate(s.maxRate)
    } catch (err) { fail(path, `"wan": ${(err as Error).message}`) }
    out.wan = wan
  }
  if (doc.networkKey !== undefined) {
    if (typeof doc.networkKey !== 'string') fail(path, '"networkKey" must be the key text or a path to it')
    if (doc.networkKey.startsWith('/key/swarm/')) {
      try { parseNetworkKey(doc.networkKey) } catch (err) { fail(path, `"networkKey": ${(err as Error).message}`) }
    }
    out.networkKey = doc.networkKey
  }
  for (const key of ['allowPeers', 'bootstrap'] as const) {
    const v = doc[key]
    if (v === undefined) continue
    if (!Array.isArray(v) || !v.every(x => typeof x === 'string')) fail(path, `"${key}" must be a list of strings`)
    out[key] = v as string[]
  }
  for (const addr of out.bootstrap ?? []) {
    try { parseMultiaddr(addr) } catch (err) { fail(path, (err as Error).message) }
  }
  if (doc.mdns !== undefined) {
    if (typeof doc.mdns !== 'boolean') fail(path, '"mdns" must be true or false')
    out.mdns = doc.mdns
  }
  if (doc.subscriptions !== undefined) {
    const subs = doc.subscriptions
    if (!Array.isArray(subs)) fail(path, '"subscriptions" must be a list of { "name": ..., "policy": "auto" | "manual" }')
    out.subscriptions = subs.map((s: { name?: unknown, policy?: unknown }) => {
      if (typeof s?.name !== 'string' || s.name === '') fail(path, '"subscriptions": every entry needs a "name"')
      const policy = s.policy ?? 'auto'
      if (policy !== 'auto' && policy !== 'manual') fail(path, `"subscriptions": policy of ${s.name} must be auto or manual`)
      return { name: s.name, policy }
    })
  }
  return out
}
