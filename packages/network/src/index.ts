/**
 * @packageDocumentation
 *
 * The CachePoint's libp2p host: TCP transport, TLS 1.3 or Noise encryption, yamux
 * multiplexing and identify, with a peer identity (ed25519) persisted in the
 * data directory so a node keeps its peer id across restarts.
 *
 * @example
 * ```ts
 * import '@cachecloud/core/polyfill'
 * const privateKey = await loadOrCreatePeerKey(dataDir + '/peer.key')
 * const node = await createNetwork({ privateKey, listen: ['/ip4/127.0.0.1/tcp/0'] })
 * ```
 */
export * from './settings.js'
export * from './host.js'
export * from './membership.js'
export * from './inbound-limits.js'
export * from './connection-errors.js'
