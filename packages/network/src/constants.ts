/** Listen address when none is configured: all interfaces, a port chosen by the OS. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']
/** Inbound streams allowed per protocol per connection (libp2p's default is 32). */
export const DEFAULT_MAX_INBOUND_STREAMS = 64
/** Identify agent version prefix; the node's site label follows it. */
export const AGENT_PREFIX = 'cachecloud/1 site='
/**
 * How often mDNS queries the local network for peers (libp2p's default). A node queries when it
 * starts, so it finds its site at once; every node answers every query and hears every answer,
 * so a shorter interval costs an n-node LAN work in n² (16 idle hosts on loopback, throttled: 31%
 * of a core at 2 s, 25% at 10 s). A peer once found is redialled every DISCOVERED_REDIAL_MS instead.
 */
export const MDNS_INTERVAL_MS = 10_000
/** A discovered peer that is not connected (its dial failed, a link was cut) is dialled again this often. */
export const DISCOVERED_REDIAL_MS = 4_000
/** Of two nodes that discover each other, the one with the greater peer id dials this much later (if still not connected). */
export const DISCOVERED_DIAL_TIEBREAK_MS = 3_000
/** A peer mDNS finds again with the same addresses is passed on to libp2p (its peer store) at most this often. */
export const MDNS_REDISCOVER_MS = 60_000
/** Peers whose last discovery the throttle remembers. */
export const MAX_THROTTLED_PEERS = 4096
/** First line of a network key file (libp2p private network, swarm.key format). */
export const NETWORK_KEY_HEADER = '/key/swarm/psk/1.0.0/'
/**
 * Bytes one connection of the private network carries in one direction before
 * it is closed: XSalsa20's block counter (as noble implements it) ends at
 * 2^32-1 blocks of 64 bytes, about 256 GiB; this stops 16 GiB before that.
 * libp2p dials again and the new connection has new nonces.
 */
export const PNET_MAX_BYTES_PER_DIRECTION = 240 * 2 ** 30
/** The cipher's own limit (noble throws at this block counter): no configured limit may exceed it. */
export const PNET_CIPHER_MAX_BYTES = (2 ** 32 - 1) * 64

/** Connection encrypters this host can run; the libp2p protocol ids are `/tls/1.0.0` and `/noise`. */
export const ENCRYPTER_NAMES = ['tls', 'noise'] as const
export type EncrypterName = typeof ENCRYPTER_NAMES[number]
/**
 * Encrypters in order of preference (negotiated with multistream-select, so
 * a Noise-only peer still connects). TLS 1.3 through Node's OpenSSL first: two
 * processes on loopback move a libp2p stream faster and with less CPU over it
 * than over Noise's JavaScript cipher (see `BENCH=transport npm run bench`).
 */
export const DEFAULT_ENCRYPTERS: readonly EncrypterName[] = ['tls', 'noise']

/** How often a host checks that gossipsub has an outbound stream to every connected gossipsub peer (reopens a dead one). */
export const PUBSUB_STREAM_CHECK_MS = 2_000
