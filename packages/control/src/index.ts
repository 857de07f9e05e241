/**
 * @packageDocumentation
 *
 * The CachePoint control API: HTTP+JSON on loopback, authenticated with a
 * bearer token kept in the data directory. Long operations (import, pull,
 * export) stream NDJSON progress lines and end with their result. The daemon
 * implements `CachePointApi`: node-wide calls and the named subsystems `images`,
 * `swarm`, `exports` and `personal`, each registering its own routes; the CLI and
 * the tray app use the client (one flat call per route).
 * Routes: docs/formats.md#control-api.
 *
 * @example
 * ```ts
 * const client = await connectToDaemon('/var/lib/cachepoint')
 * const result = await client.pull({ ref: 'win11@v2' }, (e) => bar.update(e.done))
 * ```
 */
export * from './api.js'
export * from './images-api.js'
export * from './swarm-api.js'
export * from './personal-api.js'
export * from './exports-api.js'
export * from './lifecycle-api.js'
export * from './constants.js'
export * from './errors.js'
export * from './endpoint.js'
export * from './client.js'
export * from './server.js'
export * from './events.js'
