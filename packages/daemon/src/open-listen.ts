import { parseMultiaddr } from '@cachecloud/network/settings'

/** Whether a listen multiaddr is reachable only from this host (127.0.0.0/8, ::1, a unix socket). */
export function isLoopbackAddress (addr: string): boolean {
  const first = parseMultiaddr(addr).getComponents()[0]
  if (first?.name === 'ip4') return first.value?.startsWith('127.') === true
  if (first?.name === 'ip6') return first.value === '::1'
  return first?.name === 'unix'
}

/**
 * The first listen address that lets any host in, if the node would be open: an address beyond
 * loopback with neither a network key nor an allow-list, and no explicit `insecureOpen`.
 */
export function openListenAddress (config: { listen: string[], networkKey?: string, allowPeers?: string[], insecureOpen?: boolean }): string | undefined {
  if (config.networkKey !== undefined || config.allowPeers !== undefined || config.insecureOpen === true) return undefined
  return config.listen.find(addr => !isLoopbackAddress(addr))
}

/** Listen addresses beyond loopback that nothing guards (what an `insecureOpen` node warns about at start). */
export function unguardedAddresses (config: { listen: string[], networkKey?: string, allowPeers?: string[] }): string[] {
  if (config.networkKey !== undefined || config.allowPeers !== undefined) return []
  return config.listen.filter(addr => !isLoopbackAddress(addr))
}
