import {
  isStartable, peerDiscoverySymbol, serviceCapabilities, TypedEventEmitter,
  type PeerDiscovery, type PeerDiscoveryEvents, type PeerInfo, type Startable
} from '@libp2p/interface'
import { MAX_THROTTLED_PEERS } from './constants.js'

interface Forwarded { at: number, addrs: string }

/**
 * Passes on a peer the inner discovery finds only when it is new, its addresses changed, or it
 * was last passed on `intervalMs` ago. mDNS has every node answer every query and every node
 * hear every answer; libp2p merges each one into its peer store (protobuf encoding, address
 * sorting), so a branch of n nodes querying every few seconds cost each node work in n² that
 * found nothing new: 16 idle hosts on loopback used 66% of a core at a 2 s interval (31% with this),
 * and about a quarter of a swarm node's busy time went there during a rollout. At most MAX_THROTTLED_PEERS peers are remembered (a flood of
 * made-up answers forgets the oldest first, which only means passing them on again).
 */
export class ThrottledDiscovery extends TypedEventEmitter<PeerDiscoveryEvents> implements PeerDiscovery, Startable {
  private readonly forwarded = new Map<string, Forwarded>()

  constructor (
    private readonly inner: PeerDiscovery,
    private readonly intervalMs: number,
    private readonly now: () => number = () => performance.now()
  ) {
    super()
    this.onPeer = this.onPeer.bind(this)
  }

  readonly [peerDiscoverySymbol] = this
  readonly [Symbol.toStringTag] = '@cachecloud/throttled-discovery'
  readonly [serviceCapabilities] = ['@libp2p/peer-discovery']

  async start (): Promise<void> {
    this.inner.addEventListener('peer', this.onPeer)
    if (isStartable(this.inner)) await this.inner.start()
  }

  async stop (): Promise<void> {
    this.inner.removeEventListener('peer', this.onPeer)
    if (isStartable(this.inner)) await this.inner.stop()
    this.forwarded.clear()
  }

  private onPeer (evt: CustomEvent<PeerInfo>): void {
    const peer = evt.detail
    const id = peer.id.toString()
    const addrs = peer.multiaddrs.map(String).sort().join(' ')
    const at = this.now()
    const last = this.forwarded.get(id)
    if (last !== undefined && last.addrs === addrs && at - last.at < this.intervalMs) return
    this.forwarded.delete(id) // re-inserted last: the map's order is the order of forwarding
    this.forwarded.set(id, { at, addrs })
    if (this.forwarded.size > MAX_THROTTLED_PEERS) this.forwarded.delete(this.forwarded.keys().next().value as string)
    this.safeDispatchEvent('peer', { detail: peer })
  }
}

/** Wraps a discovery service factory (`mdns({...})`) so that its repeats are throttled. */
export function throttled<C> (factory: (components: C) => PeerDiscovery, intervalMs: number): (components: C) => ThrottledDiscovery {
  return (components) => new ThrottledDiscovery(factory(components), intervalMs)
}
