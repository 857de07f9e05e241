import type { ConnectionGater, ConnectionProtector, MultiaddrConnection, PeerId } from '@libp2p/interface'
import { PskProtector } from './pnet.js'
import type { Logger } from 'pino'
import { NETWORK_KEY_HEADER } from './constants.js'
import { InvalidNetworkKeyError } from './errors.js'

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

/** Checks a network key in the swarm.key format (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits). */
export function parseNetworkKey (key: Uint8Array | string): Uint8Array {
  const text = typeof key === 'string' ? key : new TextDecoder().decode(key)
  const lines = text.trim().split(/\r?\n/)
  if (lines.length !== 3 || lines[0] !== NETWORK_KEY_HEADER || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2])) {
    throw new InvalidNetworkKeyError(`not a network key: expected three lines "${NETWORK_KEY_HEADER}", "/base16/" and 64 hex digits`)
  }
  return new TextEncoder().encode(lines.join('\n') + '\n')
}

/** A new random network key in the swarm.key format, to share with the organization's nodes. */
export function generateNetworkKey (): string {
  const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
  return `${NETWORK_KEY_HEADER}\n/base16/\n${hex}\n`
}

/** libp2p private network: every byte (handshakes included) is encrypted with the shared key. */
export function networkProtector (key: Uint8Array): (components: never) => ConnectionProtector {
  const psk = Buffer.from(new TextDecoder().decode(parseNetworkKey(key)).trim().split('\n')[2], 'hex')
  return () => new PskProtector(psk)
}
