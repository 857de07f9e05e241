import { readFile } from 'node:fs/promises'
import { isAbsolute, join } from 'node:path'
import type { PlanInfo, RolloutInfo, SubscriptionInfo, SwarmApi, SwarmStatusInfo } from '@cachecloud/control'
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

/** The daemon's `swarm` subsystem: publish, subscriptions (kept in the config file), plan, status, rollout. */
export class DaemonSwarm implements SwarmApi {
  constructor (private readonly swarm: Swarm, private readonly config: CachePointConfig) {}

  async publish (ref: string): Promise<{ ref: string, topic: string, recipients: number }> {
    return { ref, ...await this.swarm.publish(parseVersionRef(ref)) }
  }

  async subscribe (name: string, policy: SubscriptionInfo['policy']): Promise<SubscriptionInfo[]> {
    this.swarm.subscribe(name, policy)
    return await this.persist()
  }

  async unsubscribe (name: string): Promise<SubscriptionInfo[]> {
    this.swarm.unsubscribe(name)
    return await this.persist()
  }

  async plan (ref: string): Promise<PlanInfo> {
    return await this.swarm.plan(parseVersionRef(ref))
  }

  async status (): Promise<SwarmStatusInfo> {
    return { site: this.config.site ?? '', subscriptions: this.swarm.subscriptions(), pulls: this.swarm.status() }
  }

  async rollout (ref?: string): Promise<RolloutInfo[]> {
    return ref === undefined ? await this.swarm.rollouts() : [await this.swarm.rollout(parseVersionRef(ref))]
  }

  /** Subscriptions survive a restart: written to the config file (other keys as they are on disk). */
  private async persist (): Promise<SubscriptionInfo[]> {
    const subscriptions = this.swarm.subscriptions()
    this.config.subscriptions = subscriptions
    const path = join(this.config.dataDir, CONFIG_FILE)
    const onDisk = await loadConfig(path)
    await saveConfig(path, { ...onDisk, subscriptions })
    return subscriptions
  }
}
