import { readFile } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import type { PlanInfo, SubscriptionInfo, SwarmApi } from '@cachecloud/control'
import { parseVersionRef } from '@cachecloud/core'
import type { Swarm } from '@cachecloud/swarm'
import { loadConfig, saveConfig, type CachePointConfig } from './config.js'
import { CONFIG_FILE } from './constants.js'

/** The network key bytes from the config: the key text itself, or a file (relative to the data directory). */
export async function readNetworkKey (config: CachePointConfig): Promise<Uint8Array | undefined> {
  const key = config.networkKey
  if (key === undefined) return undefined
  if (key.startsWith('/key/swarm/')) return new TextEncoder().encode(key)
  return await readFile(isAbsolute(key) ? key : join(config.dataDir, key))
}

/** The swarm part of the control API: publish, subscriptions (kept in the config file), plan, status. */
export function swarmApi (swarm: () => Swarm, config: CachePointConfig): SwarmApi {
  const persist = async (): Promise<SubscriptionInfo[]> => {
    const subscriptions = swarm().subscriptions()
    config.subscriptions = subscriptions
    const path = join(config.dataDir, CONFIG_FILE)
    const onDisk = await loadConfig(path)
    await saveConfig(path, { ...onDisk, subscriptions })
    return subscriptions
  }
  return {
    async publish (ref) {
      return { ref, ...await swarm().publish(parseVersionRef(ref)) }
    },
    async subscribe (name, policy) {
      swarm().subscribe(name, policy)
      return await persist()
    },
    async unsubscribe (name) {
      swarm().unsubscribe(name)
      return await persist()
    },
    async plan (ref): Promise<PlanInfo> {
      return await swarm().plan(parseVersionRef(ref))
    },
    async swarmStatus () {
      return { site: config.site ?? '', subscriptions: swarm().subscriptions(), pulls: swarm().status() }
    },
    async rollout (ref) {
      return ref === undefined ? await swarm().rollouts() : [await swarm().rollout(parseVersionRef(ref))]
    }
  }
}
