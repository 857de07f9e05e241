import { readFile } from 'node:fs/promises'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseMultiaddr, parseNetworkKey, type InboundLimits } from '@cachecloud/network/settings'
import { parseRate, type WanRateConfig } from '@cachecloud/swarm/rate'
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
  /** Limits on inbound connections (a seed reached by a whole branch through one NAT address); unset keys keep DEFAULT_INBOUND_LIMITS (@cachecloud/network). */
  inbound?: Partial<InboundLimits>
  /** Images whose announced versions this node pulls (auto) or only records (manual). */
  subscriptions?: Array<{ name: string, policy: 'auto' | 'manual' }>
  /** How often this node sends its rollout reports (issue 14). Default: 60 (@cachecloud/swarm DEFAULT_ROLLOUT_INTERVAL_MS). */
  rolloutIntervalSeconds?: number
}

/** Reads and checks the swarm fields of a config document; each problem is one line naming the field. */
export function parseSwarmConfig (doc: Record<string, unknown>, path: string): SwarmConfig {
  return parseSwarmFields(doc, why => { throw new ConfigError(`config ${path}: ${why}`) })
}

/** The checks of parseSwarmConfig, reporting the first problem (one line naming the field) to `reject`, which throws. */
export function parseSwarmFields (doc: Record<string, unknown>, reject: (why: string) => never): SwarmConfig {
  const fail: (path: string, why: string) => never = (_path, why) => reject(why)
  const path = ''
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
    try { parseMultiaddr(addr) } catch (err) { fail(path, `"bootstrap": ${(err as Error).message}`) }
    if (!addr.includes('/p2p/')) fail(path, `"bootstrap": ${addr} must end in /p2p/<peer id>`)
  }
  for (const id of out.allowPeers ?? []) {
    try { peerIdFromString(id) } catch { fail(path, `"allowPeers": ${JSON.stringify(id)} is not a peer id (expected e.g. 12D3KooW...)`) }
  }
  if (doc.inbound !== undefined) out.inbound = { ...(doc.inbound as Partial<InboundLimits>) } // shape checked by the schema
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
  if (doc.rolloutIntervalSeconds !== undefined) out.rolloutIntervalSeconds = doc.rolloutIntervalSeconds as number // whole seconds >= 1: the schema
  return out
}

/** Checks that a network key file exists and holds a key (`cachepoint init --network-key`); one-line ConfigError otherwise. */
export async function checkNetworkKeyFile (path: string): Promise<void> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    throw new ConfigError(`cannot read network key ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`)
  }
  try { parseNetworkKey(text) } catch (err) { throw new ConfigError(`network key ${path}: ${(err as Error).message}`) }
}
