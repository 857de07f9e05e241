/** Listen address when none is configured: all interfaces, a port chosen by the OS. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']
/** Inbound streams allowed per protocol per connection (libp2p's default is 32). */
export const DEFAULT_MAX_INBOUND_STREAMS = 64
/** Identify agent version prefix; the node's site label follows it. */
export const AGENT_PREFIX = 'cachecloud/1 site='
/** How often mDNS queries the local network for peers. */
export const MDNS_INTERVAL_MS = 2_000
/** First line of a network key file (libp2p private network, swarm.key format). */
export const NETWORK_KEY_HEADER = '/key/swarm/psk/1.0.0/'
