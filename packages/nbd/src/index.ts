/**
 * @packageDocumentation
 *
 * An NBD server in user space: the fixed newstyle handshake (EXPORT_NAME, GO, INFO, LIST,
 * ABORT) and simple replies to READ, WRITE, FLUSH, TRIM and DISC, for any `BlockDevice`
 * (nothing here knows about CacheCloud). A device without `write` is exported read-only
 * (writes get EPERM); a failed read gets EIO; request sizes are bounded. `createOverlay`
 * turns a read-only device into a writable copy-on-write one whose writes go to a local
 * delta; an overlay opened `readOnly` is a layer under a clone of it (clones of clones), and
 * `createBlockCache` puts one bounded LRU cache in front of a device that many overlays share
 * (a pool of clones). Wire format: docs/formats/nbd.md.
 *
 * @example
 * ```ts
 * const server = createNbdServer({ exports: [{ name: 'win11@v2', device }], host: '127.0.0.1', port: 10809 })
 * await server.start()          // qemu-img convert -f raw nbd://127.0.0.1:10809 out.raw
 * // or, so that only this user may connect (NBD has no authentication):
 * createNbdServer({ exports, socketPath: '/var/lib/cachepoint/nbd/win11@v2.sock' })  // nbd+unix:///?socket=...
 * ```
 */
import { DefaultNbdServer } from './server.js'

/** What an NBD export serves: a fixed-size array of bytes. */
export interface BlockDevice {
  /** Length in bytes. */
  readonly size: number
  /** Exactly `length` bytes at `offset` (within size); reject with DeviceError(errno) to choose the client's error. */
  read(offset: number, length: number, signal?: AbortSignal): Promise<Uint8Array>
  /** Present on writable devices only. */
  write?(offset: number, data: Uint8Array): Promise<void>
  /** Makes completed writes durable. */
  flush?(): Promise<void>
  /** The range's content is no longer needed (reads may return zeros or the old bytes). */
  trim?(offset: number, length: number): Promise<void>
}

export interface NbdExport {
  name: string
  description?: string
  device: BlockDevice
}

/** One request finished, for statistics (the server itself keeps none). */
export type NbdRequestEvent =
  | { type: 'done', command: number, offset: number, length: number, error: 0, ms: number }
  | { type: 'error', command: number, offset: number, length: number, error: number, message: string, ms: number }

/** Structured logger shape (pino's), so this package does not depend on pino. */
export interface NbdLogger {
  info(obj: object, msg?: string, ...args: unknown[]): void
  warn(obj: object, msg?: string, ...args: unknown[]): void
}

export interface NbdServerInit {
  /** The first one is also served under the empty name (what `nbd://host:port` asks for). */
  exports: NbdExport[]
  /** Listen on this Unix socket (mode 0600) instead of TCP; not with host or port. */
  socketPath?: string
  /** TCP listen address. Default 127.0.0.1. */
  host?: string
  /** Default 0 (the OS chooses; start() returns it). */
  port?: number
  /** Default DEFAULT_MAX_CLIENTS. */
  maxClients?: number
  /** Requests in progress per connection. Default DEFAULT_CONCURRENCY. */
  concurrency?: number
  /** Default DEFAULT_HANDSHAKE_TIMEOUT_MS. */
  handshakeTimeoutMs?: number
  logger?: NbdLogger
  onRequest?: (event: NbdRequestEvent) => void
}

export interface NbdServer {
  /** Listens; throws AddressInUseError or InvalidAddressError. On a Unix socket, host is '' and port 0. */
  start(): Promise<{ host: string, port: number, socketPath?: string }>
  /** Closes every connection (requests in progress are abandoned) and the listener. */
  stop(): Promise<void>
  /** Connections open now. */
  readonly clients: number
  readonly connectionsServed: number
}

export function createNbdServer (init: NbdServerInit): NbdServer {
  return new DefaultNbdServer(init)
}

export * from './constants.js'
export * from './errors.js'
export { createOverlay, freezeOverlay, readOverlayChunks, readOverlayInfo, type Overlay, type OverlayInit, type OverlayInfo } from './overlay.js'
export { createBlockCache, type BlockCache, type BlockCacheInit, type BlockCacheStats } from './block-cache.js'
