import type { PeerInfo } from '@cachecloud/control'
import { peerIdOfMultiaddr, type CachePointLibp2p } from '@cachecloud/network'
import type { CachePointConfig } from './config.js'
import { peerRole } from './peer-role.js'

/** Configured peers (the personal store's addresses count) and those connected now, each with its role. */
export async function listPeers (libp2p: CachePointLibp2p, config: CachePointConfig): Promise<PeerInfo[]> {
  const byId = new Map<string, PeerInfo>()
  const configure = (addr: string): void => {
    const peerId = peerIdOfMultiaddr(addr) ?? addr
    const info = byId.get(peerId) ?? { peerId, addresses: [], connected: false, configured: true, role: 'unknown' }
    info.addresses.push(addr)
    byId.set(peerId, info)
  }
  for (const addr of config.peers) configure(addr)
  const store = config.personalStore
  const storeAddresses = [store?.address, ...(store?.fallbackAddresses ?? [])].filter(a => a !== undefined)
  for (const addr of storeAddresses) configure(addr)
  for (const connection of libp2p.getConnections()) {
    const peerId = connection.remotePeer.toString()
    const info = byId.get(peerId) ?? { peerId, addresses: [], connected: false, configured: false, role: 'unknown' }
    info.connected = true
    const addr = connection.remoteAddr.toString()
    if (!info.addresses.includes(addr)) info.addresses.push(addr)
    byId.set(peerId, info)
  }
  const storePeers = new Set(storeAddresses.map(peerIdOfMultiaddr))
  for (const info of byId.values()) Object.assign(info, await peerRole(libp2p, info.peerId, storePeers.has(info.peerId) ? info.peerId : undefined))
  return [...byId.values()]
}
