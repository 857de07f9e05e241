import type { ConnectionGater, ConnectionProtector, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { PskProtector } from './pnet.js'
import type { Logger } from 'pino'
import { parseNetworkKey } from './network-key.js'

/**
 * Only the organization's nodes: a connection from or to a peer id not on
 * the list is refused right after the encryption handshake, before the
 * muxer or any protocol runs, and the refusal is logged.
 */
export function createMembershipGater (allowPeers: string[], logger?: Logger): ConnectionGater {
  const allowed = new Set(allowPeers)
  const deny = (direction: 'inbound' | 'outbound') => (peer: PeerId, conn: MultiaddrConnection): boolean => {
    if (allowed.has(peer.toString())) return false
    logger?.warn({ peer: peer.toString(), remote: conn.remoteAddr.toString(), direction }, 'refused %s connection of %s: not a member (allowPeers)', direction, peer.toString())
    return true
  }
  return {
    denyDialPeer: (peer: PeerId) => !allowed.has(peer.toString()),
    denyInboundEncryptedConnection: deny('inbound'),
    denyOutboundEncryptedConnection: deny('outbound')
  }
}

/** libp2p private network: every byte (handshakes included) is encrypted with the shared key. */
export function networkProtector (key: Uint8Array): (components: never) => ConnectionProtector {
  const psk = Buffer.from(new TextDecoder().decode(parseNetworkKey(key)).trim().split('\n')[2], 'hex')
  return () => new PskProtector(psk)
}
