/**
 * @packageDocumentation
 *
 * The CachePoint status page and what it stands on: a plain web app
 * (web/, bundled by scripts/build-ui.mjs into dist/web) that talks to the
 * daemon only through the control API, receiving live status by server-sent
 * events; the loopback server that serves it and proxies the API for it
 * (`cachepoint ui`, and the tray app's window); and the pure summary of a
 * status (state at a glance, notices on transitions) shared by the
 * page and the tray.
 *
 * @example
 * ```ts
 * const ui = createUiServer({ dataDir: '/var/lib/cachepoint' })
 * const { openUrl } = await ui.start()   // http://127.0.0.1:PORT/#key=...
 * summarize(await client.status()).text  // 'Syncing 42% (win11@v2)'
 * ```
 */
export * from './constants.js'
export * from './format.js'
export * from './summary.js'
export { createUiServer, type UiServer, type UiServerInit } from './server.js'
export * from './errors.js'
