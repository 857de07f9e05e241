import type { CachePointConfig } from '@cachecloud/daemon'
import { UsageError } from './errors.js'

/** Checks a flag's value by the config file's own rules for its key; a problem is a UsageError naming the flag (exit 2). */
export async function checkFlag<K extends keyof CachePointConfig> (flag: string, key: K, value: CachePointConfig[K] | undefined): Promise<void> {
  if (value === undefined) return
  const { parseConfigFields } = await import('@cachecloud/daemon/settings')
  parseConfigFields({ [key]: value }, why => { throw new UsageError(`${flag}: ${why}`) })
}

/** Refuses flags that would make a node anyone can read: a listen address beyond loopback, no network key, no allow-list. */
export async function checkOpenListen (config: { listen?: string[], networkKey?: string, allowPeers?: string[], insecureOpen?: boolean }): Promise<void> {
  const { openListenAddress, DEFAULT_LISTEN_ADDRESS } = await import('@cachecloud/daemon/settings')
  const open = openListenAddress({ ...config, listen: config.listen ?? [DEFAULT_LISTEN_ADDRESS] })
  if (open === undefined) return
  throw new UsageError(`--listen ${open} is reachable beyond this host, but neither --network-key nor --allow-peer is given: any host that reaches it could list and download every image (add one, listen on /ip4/127.0.0.1 only, or pass --insecure-open to accept that)`)
}
