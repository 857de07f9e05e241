/**
 * @packageDocumentation
 *
 * A running CachePoint. Reads its config file, locks its data directory (one
 * daemon per directory), and wires the block store, the image catalog, the
 * libp2p host, the transfer protocols and the control API together. The
 * `cachepoint` app only parses arguments and prints. A started daemon has
 * named subsystems, as a helia node does: `images`, `swarm`, `exports` and
 * `personal`, beside its own status, peers, pause, resume and sync.
 *
 * @example
 * ```ts
 * import '@cachecloud/core/polyfill'
 * const config = await loadConfig('/var/lib/cachepoint/config.json')
 * const daemon = createDaemon({ config, logger: pino() })
 * await daemon.start()
 * const versions = await daemon.images.list()
 * ```
 */
export * from './settings.js'
export { createDaemon, type CachePointDaemon, type DaemonInit } from './daemon.js'
export { pullFailures, pullStatuses } from './pull-status.js'
