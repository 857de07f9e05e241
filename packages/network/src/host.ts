import { yamux } from '@chainsafe/libp2p-yamux'
import { bootstrap } from '@libp2p/bootstrap'
import { gossipsub, type GossipSub, type Message } from '@libp2p/gossipsub'
import { identify, type Identify } from '@libp2p/identify'
import type { Connection, Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { mdns } from '@libp2p/mdns'
import { peerIdFromString } from '@libp2p/peer-id'
import { tcp } from '@libp2p/tcp'
import { createLibp2p, type Libp2pOptions } from 'libp2p'
import type { Logger } from 'pino'
import { throttled } from './discovery-throttle.js'
import { AGENT_PREFIX, DEFAULT_ENCRYPTERS, DISCOVERED_DIAL_TIEBREAK_MS, DISCOVERED_REDIAL_MS, DEFAULT_LISTEN, MDNS_INTERVAL_MS, MDNS_REDISCOVER_MS, PUBSUB_STREAM_CHECK_MS, type EncrypterName } from './constants.js'
import { connectionEncrypters } from './encrypters.js'
import { peerIdOfMultiaddr } from './multiaddrs.js'
import { connectionManagerOptions, createInboundRateGater, DEFAULT_INBOUND_LIMITS, type InboundLimits } from './inbound-limits.js'
import { createMembershipGater, networkProtector } from './membership.js'

export interface NetworkInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on. Default: DEFAULT_LISTEN. */
  listen?: string[]
  /** Addresses to announce instead of the listen addresses (e.g. behind NAT). */
  announce?: string[]
  /** This node's site label (e.g. `branch-paris`), sent to peers in identify's agent version. */
  site?: string
  /** Organization network key (libp2p private network, swarm.key format): peers without it cannot connect at all. */
  networkKey?: Uint8Array
  /** Peer ids allowed to connect (checked after the handshake, before any protocol runs); unset: everyone with the network key. */
  allowPeers?: string[]
  /** Peers dialled at start and kept connected (multiaddrs with /p2p/). */
  bootstrap?: string[]
  /** Find peers on the local network with mDNS and connect to them. Default: false. */
  mdns?: boolean
  /** How often mDNS queries. Default: MDNS_INTERVAL_MS. */
  mdnsIntervalMs?: number
  /** Connection encrypters in order of preference, e.g. `['noise']` for Noise only. Default: DEFAULT_ENCRYPTERS (TLS, then Noise). */
  encrypters?: readonly EncrypterName[]
  /** Limits on inbound connections (per-host rate, handshakes at once, open connections). Default: DEFAULT_INBOUND_LIMITS. */
  inbound?: InboundLimits
  /** Refused connections are logged here. */
  logger?: Logger
}

/** Announcements travel by gossipsub (one topic per image); the publisher floods its own messages to every subscribed peer. */
export type CachePointPubSub = GossipSub
export type PubSubMessage = Message

export type CachePointLibp2p = Libp2p<{ identify: Identify, pubsub: CachePointPubSub }>

/** Creates and starts the libp2p host. Needs `@cachecloud/core/polyfill` loaded first on Node 20. */
export async function createNetwork (init: NetworkInit): Promise<CachePointLibp2p> {
  const peerDiscovery: NonNullable<Libp2pOptions['peerDiscovery']> = []
  if (init.bootstrap !== undefined && init.bootstrap.length > 0) peerDiscovery.push(bootstrap({ list: init.bootstrap }))
  if (init.mdns === true) peerDiscovery.push(throttled(mdns({ interval: init.mdnsIntervalMs ?? MDNS_INTERVAL_MS }), MDNS_REDISCOVER_MS))
  const inbound = init.inbound ?? DEFAULT_INBOUND_LIMITS
  const options: Libp2pOptions<{ identify: Identify, pubsub: CachePointPubSub }> = {
    privateKey: init.privateKey,
    addresses: { listen: init.listen ?? DEFAULT_LISTEN, announce: init.announce ?? [] },
    transports: [tcp()],
    connectionEncrypters: connectionEncrypters(init.encrypters ?? DEFAULT_ENCRYPTERS),
    streamMuxers: [yamux()],
    peerDiscovery,
    connectionManager: connectionManagerOptions(inbound),
    nodeInfo: { userAgent: `${AGENT_PREFIX}${init.site ?? ''}` },
    // a publish with no subscriber connected yet is not an error: subscribers catch up when they connect.
    // No IP-colocation penalty: with gossipsub's default, more than 13 peers behind one address (a branch
    // behind NAT, nodes on one host) score below the publish and graylist thresholds, so announcements are
    // not sent to them and their rollout reports are ignored. Membership is the network key or allow-list.
    services: {
      identify: identify(),
      pubsub: gossipsub({ allowPublishToZeroTopicPeers: true, floodPublish: true, scoreParams: { IPColocationFactorWeight: 0 } })
    }
  }
  if (init.networkKey !== undefined) options.connectionProtector = networkProtector(init.networkKey)
  options.connectionGater = {
    ...(init.allowPeers === undefined ? {} : createMembershipGater(init.allowPeers, init.logger)),
    ...createInboundRateGater(inbound, init.logger)
  }
  const node = await createLibp2p(options)
  trackPeerSites(node)
  keepPubsubStreams(node, init.logger)
  if (peerDiscovery.length > 0) {
    // discovery (mDNS, bootstrap) only finds peers; connecting is ours to do. A peer is announced once: a dial that
    // fails (a loaded machine, a link down) is retried, or a same-site peer stays unknown for good
    const discovered = new Map<string, PeerId>()
    const dial = (peer: PeerId): void => {
      if (node.status !== 'started' || node.getConnections(peer).length > 0) return
      node.dial(peer).catch((err: Error) => { init.logger?.debug({ peer: peer.toString(), err }, 'dial of discovered peer failed') })
    }
    // two nodes of a LAN hear each other's mDNS answers at once: if both dialled, the pair would keep two
    // connections (two of everything: keep-alives, pubsub streams). The greater peer id waits, so it finds
    // the other's connection made; a bootstrap peer, which does not dial back, is dialled at once
    const bootstrapIds = new Set((init.bootstrap ?? []).map(peerIdOfMultiaddr).filter(id => id !== undefined))
    node.addEventListener('peer:discovery', (evt) => {
      const peer = evt.detail.id
      if (peer.equals(node.peerId)) return
      const id = peer.toString()
      discovered.set(id, peer)
      if (bootstrapIds.has(id) || node.peerId.toString() < id) dial(peer)
      else setTimeout(() => { dial(peer) }, DISCOVERED_DIAL_TIEBREAK_MS).unref()
    })
    const redial = setInterval(() => { for (const peer of discovered.values()) dial(peer) }, DISCOVERED_REDIAL_MS)
    redial.unref()
    node.addEventListener('stop', () => { clearInterval(redial) })
  }
  return node
}

/** The private parts of gossipsub that keepPubsubStreams uses (@libp2p/gossipsub 17). */
interface GossipSubStreams {
  peers: Map<string, unknown>
  streamsOutbound: Map<string, unknown>
  outboundInflightQueue?: { push: (item: { peerId: PeerId, connection: Connection }) => void }
  handlePeerReadStreamError?: (err: Error, peerId: PeerId) => void
}

/**
 * gossipsub's per-peer state can be lost while a connection to the peer lives, and then it does not come
 * back until the peer disconnects and connects again: the peer hears no announcement or rollout report from
 * this node, or this node none from it. This keeps it:
 * - A peer is forgotten (its streams closed, its subscriptions dropped) when a stream of another, stale
 *   connection to it fails: gossipsub's read-error handler calls its disconnect handler
 *   (ChainSafe/js-libp2p-gossipsub#456). A laptop whose link is cut for seconds redials while its old
 *   connection is still open at the publisher; when the publisher's ping on it times out, the publisher
 *   forgot the laptop, and the laptop, which never learnt the publisher's subscriptions over the new
 *   connection, stayed "offline" at it for good. A read error of a peer with another open connection now
 *   only ends that stream; the peer's disconnect still forgets it.
 * - The outbound stream, opened once when the connection opens, dies (its protocol negotiation timing out
 *   on a loaded machine, or with the stale connection above) and is not reopened while the connection lasts
 *   (a live node was "offline" at its publisher for over a minute). Every PUBSUB_STREAM_CHECK_MS a missing
 *   one goes to gossipsub's own queue of stream openings, and its subscriptions go out on the new stream.
 */
function keepPubsubStreams (node: CachePointLibp2p, logger?: Logger): void {
  const gs = node.services.pubsub as unknown as GossipSubStreams
  if (!(gs.peers instanceof Map) || !(gs.streamsOutbound instanceof Map)) return // another gossipsub: nothing to repair
  const onReadError = gs.handlePeerReadStreamError?.bind(gs)
  if (onReadError !== undefined) {
    gs.handlePeerReadStreamError = (err: Error, peerId: PeerId): void => {
      if (node.getConnections(peerId).some(c => c.status === 'open')) {
        logger?.debug({ peer: peerId.toString(), err }, 'pubsub stream of a peer failed; another connection to it lives: the peer is kept')
        return
      }
      onReadError(err, peerId)
    }
  }
  const timer = setInterval(() => {
    if (node.status !== 'started') return
    for (const connection of node.getConnections()) {
      const id = connection.remotePeer.toString()
      if (connection.status !== 'open' || !gs.peers.has(id) || gs.streamsOutbound.has(id)) continue
      gs.outboundInflightQueue?.push({ peerId: connection.remotePeer, connection })
    }
  }, PUBSUB_STREAM_CHECK_MS)
  timer.unref()
  node.addEventListener('stop', () => { clearInterval(timer) })
}

const siteOfAgent = (agent: string | undefined): string | undefined =>
  agent !== undefined && agent.startsWith(AGENT_PREFIX) && agent.length > AGENT_PREFIX.length ? agent.slice(AGENT_PREFIX.length) : undefined

/**
 * Site labels by peer id, as identify last reported them, for hosts made by
 * createNetwork. A sender asks for the site of its peer on every block it
 * sends; a peer-store read per block (a lock, a protobuf decode) cost a
 * tenth of a serving daemon's CPU. Entries go when the peer disconnects.
 */
const identifiedSites = new WeakMap<Libp2p, Map<string, string | undefined>>()

function trackPeerSites (node: Libp2p): void {
  const sites = new Map<string, string | undefined>()
  identifiedSites.set(node, sites)
  node.addEventListener('peer:identify', (evt) => { sites.set(evt.detail.peerId.toString(), siteOfAgent(evt.detail.agentVersion)) })
  node.addEventListener('peer:disconnect', (evt) => { sites.delete(evt.detail.toString()) })
}

/** The site label a peer (a PeerId or its string) sent in identify's agent version, if any. Asked per block: the string is parsed only when identify has not answered yet. */
export async function peerSite (node: Libp2p, peer: PeerId | string): Promise<string | undefined> {
  const known = identifiedSites.get(node)
  const key = peer.toString()
  if (known?.has(key) === true) return known.get(key)
  try {
    const agent = (await node.peerStore.get(typeof peer === 'string' ? peerIdFromString(peer) : peer)).metadata.get('AgentVersion')
    return agent === undefined ? undefined : siteOfAgent(new TextDecoder().decode(agent))
  } catch {
    return undefined
  }
}
