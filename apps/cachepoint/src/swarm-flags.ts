import { resolve } from 'node:path'
import type { SwarmConfig } from '@cachecloud/daemon'
import { UsageError } from './errors.js'

/** The swarm flags of `cachepoint init`, as commander hands them over. */
export interface SwarmFlags {
  site?: string
  wanMaxRate?: string
  wanSchedule?: string[]
  networkKey?: string
  allowPeer?: string[]
  bootstrap?: string[]
  mdns?: boolean
  subscribe?: string[]
}

/** `8-18=2mbit`: hours [from, to) of the day at a rate. */
function parseScheduleEntry (text: string): { from: number, to: number, maxRate: string } {
  const match = /^(\d{1,2})-(\d{1,2})=(\S+)$/.exec(text)
  const from = Number(match?.[1])
  const to = Number(match?.[2])
  if (match === null || from > 23 || to > 24 || from === to) {
    throw new UsageError(`--wan-schedule must be FROM-TO=RATE with hours 0-24, e.g. 8-18=2mbit, got ${JSON.stringify(text)}`)
  }
  return { from, to, maxRate: match[3] }
}

/** `os` or `os:manual`. */
function parseSubscription (text: string): { name: string, policy: 'auto' | 'manual' } {
  const [name, policy = 'auto', ...rest] = text.split(':')
  if (name === '' || rest.length > 0 || (policy !== 'auto' && policy !== 'manual')) {
    throw new UsageError(`--subscribe must be NAME or NAME:auto or NAME:manual, got ${JSON.stringify(text)}`)
  }
  return { name, policy }
}

/**
 * Turns init's swarm flags into config fields, checked by the daemon's own config rules: a
 * problem is a UsageError naming the flag, on one line. The network key file is checked later
 * (checkNetworkKeyFile), since that reads the disk.
 */
export async function swarmConfigFromFlags (flags: SwarmFlags): Promise<SwarmConfig> {
  const { parseSwarmFields } = await import('@cachecloud/daemon/settings')
  const check = <K extends keyof SwarmConfig>(flag: string, key: K, value: SwarmConfig[K] | undefined): SwarmConfig[K] | undefined => {
    if (value === undefined) return undefined
    return parseSwarmFields({ [key]: value }, why => { throw new UsageError(`${flag}: ${why}`) })[key]
  }
  if (flags.wanSchedule !== undefined && flags.wanMaxRate === undefined) throw new UsageError('--wan-schedule needs --wan-max-rate (the rate outside the scheduled hours)')
  const wan = flags.wanMaxRate === undefined
    ? undefined
    : { maxRate: flags.wanMaxRate, ...(flags.wanSchedule !== undefined ? { schedule: flags.wanSchedule.map(parseScheduleEntry) } : {}) }
  const networkKey = flags.networkKey === undefined || flags.networkKey.startsWith('/key/swarm/') ? flags.networkKey : resolve(flags.networkKey)
  const out: SwarmConfig = {
    site: check('--site', 'site', flags.site),
    wan: check('--wan-max-rate/--wan-schedule', 'wan', wan),
    networkKey: check('--network-key', 'networkKey', networkKey),
    allowPeers: check('--allow-peer', 'allowPeers', flags.allowPeer),
    bootstrap: check('--bootstrap', 'bootstrap', flags.bootstrap),
    mdns: flags.mdns,
    subscriptions: check('--subscribe', 'subscriptions', flags.subscribe?.map(parseSubscription))
  }
  for (const key of Object.keys(out) as Array<keyof SwarmConfig>) if (out[key] === undefined) Reflect.deleteProperty(out, key)
  return out
}
