import type { PeerInfo } from '@cachecloud/control'
import { peerSite, type CachePointLibp2p } from '@cachecloud/network'
import { PERSONAL_PROTOCOL, PERSONAL_READ_PROTOCOL } from '@cachecloud/personal'
import { CATALOG_PROTOCOL } from '@cachecloud/transfer'
import { peerIdFromString } from '@libp2p/peer-id'

/**
 * What a peer is, from what identify told of it: the data-center store
 * serves the personal protocols and no image catalog; a CachePoint serves
 * the catalog. Both send the same agent prefix (network/constants.ts), so
 * the protocol list is what tells them apart. The configured personal store
 * counts as the store before it has been identified.
 */
export async function peerRole (libp2p: CachePointLibp2p, peerId: string, storePeer: string | undefined): Promise<Pick<PeerInfo, 'role' | 'site'>> {
  let protocols: string[] = []
  let site: string | undefined
  try {
    const id = peerIdFromString(peerId)
    protocols = (await libp2p.peerStore.get(id)).protocols
    site = await peerSite(libp2p, id)
  } catch {
    // never identified (not met yet), or not a peer id: nothing more is known
  }
  const serves = (p: string): boolean => protocols.includes(p)
  const role: PeerInfo['role'] = serves(PERSONAL_PROTOCOL) || serves(PERSONAL_READ_PROTOCOL) || (peerId === storePeer && !serves(CATALOG_PROTOCOL))
    ? 'store'
    : serves(CATALOG_PROTOCOL) ? 'cachepoint' : 'unknown'
  return site === undefined ? { role } : { role, site }
}
