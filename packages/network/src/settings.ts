/**
 * What a node's configuration needs of the network without starting one:
 * multiaddrs and network keys checked with one-line errors, the peer key
 * file, the constants and errors. A light entry point (no libp2p host, no
 * transports, no muxer): the config code of @cachecloud/daemon, and so the
 * CLI's offline commands (init, id, config), load this and not libp2p.
 */
export * from './constants.js'
export * from './errors.js'
export * from './identity.js'
export * from './multiaddrs.js'
export * from './network-key.js'
export type { InboundLimits } from './inbound-limits.js'
