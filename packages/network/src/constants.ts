/** Listen address when none is configured: all interfaces, a port chosen by the OS. */
export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0']
/** Inbound streams allowed per protocol per connection (libp2p's default is 32). */
export const DEFAULT_MAX_INBOUND_STREAMS = 64
