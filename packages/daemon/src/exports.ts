import { createHash } from 'node:crypto'
import { chmod, mkdir, readdir, readFile, rm } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Logger } from 'pino'
import type { Libp2p } from '@libp2p/interface'
import type { Blockstore } from '@cachecloud/blockstore'
import type { ExportBackground, ExportInfo, ExportsApi, OverlayInfo, ServeRequest } from '@cachecloud/control'
import { formatVersionRef, isPaused, parseVersionRef, writeFileAtomic, type CID, type VersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import { AddressInUseError, createNbdServer, createOverlay, MAX_SOCKET_PATH_BYTES, readOverlayInfo, type NbdRequestEvent, type NbdServer, type Overlay } from '@cachecloud/nbd'
import { createImageDevice, type ImageDevice } from '@cachecloud/ondemand'
import type { Swarm } from '@cachecloud/swarm'
import { EXPORT_PULL_RETRY_MS, EXPORTS_FILE, OVERLAYS_DIR } from './constants.js'
import { ExportNotFoundError, InvalidOverlayNameError, OverlayInUseError, OverlayNotFoundError } from './errors.js'

export interface ExportsInit {
  dataDir: string
  libp2p: Libp2p
  blockstore: Blockstore
  catalog: Catalog
  swarm: Swarm
  site?: string
  logger: Logger
  onChange: () => void
  /** Every NBD request served (metrics). */
  onNbdRequest?: (event: NbdRequestEvent) => void
  /** Budget of reads on demand from peers; default: the swarm's. */
  receiveBudget?: (peer: string, bytes: number) => Promise<void>
}

/** Directory of the exports' Unix sockets, inside the data directory: mode 0700, each socket 0600. */
const SOCKETS_DIR = 'nbd'

interface Served {
  /** HOST:PORT, or the socket's path. */
  id: string
  /** What serves it again after a restart (the port the OS chose, if 0 was asked). */
  request: ServeRequest
  ref: VersionRef
  cid: CID
  host: string
  port: number
  socket?: string
  server: NbdServer
  device: ImageDevice
  overlay?: { name: string, device: Overlay }
  pull: boolean
  startedAt: string
  stopped: AbortController
}

const OVERLAY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** NBD exports of image versions served on demand, and their copy-on-write overlays (the daemon's exports API). */
export class NbdExports implements ExportsApi {
  private readonly served = new Map<string, Served>()

  constructor (private readonly init: ExportsInit) {}

  private overlayDir (name: string): string {
    if (!OVERLAY_NAME.test(name)) throw new InvalidOverlayNameError(`overlay name "${name}" must be letters, digits, ".", "_" or "-" (at most 64, not starting with a punctuation mark)`)
    return join(this.init.dataDir, OVERLAYS_DIR, name)
  }

  /** Where a version (and overlay) is served when no TCP port is asked: DATA_DIR/nbd/NAME@VERSION[.overlay-NAME].sock. */
  private async socketPath (name: string, overlay: string | undefined): Promise<string> {
    const dir = join(this.init.dataDir, SOCKETS_DIR)
    await mkdir(dir, { recursive: true, mode: 0o700 })
    await chmod(dir, 0o700) // nobody else may reach a socket in it, not even between its listen and its chmod
    const file = `${name}${overlay === undefined ? '' : `.overlay-${overlay}`}.sock`
    const path = join(dir, file)
    if (Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES) return path
    return join(dir, `${createHash('sha256').update(file).digest('hex').slice(0, 16)}.sock`)
  }

  async serve (request: ServeRequest): Promise<ExportInfo> {
    const { swarm, libp2p, blockstore, logger } = this.init
    const ref = parseVersionRef(request.ref)
    const name = formatVersionRef(ref)
    const socketPath = request.port === undefined ? await this.socketPath(name, request.overlay) : undefined
    if (socketPath !== undefined && this.served.has(socketPath)) throw new AddressInUseError(`${name} is already served at ${socketPath} (serve it again on TCP with --nbd 127.0.0.1:PORT, or stop it with: cachepoint image unserve ${basename(socketPath)})`)
    const dir = request.overlay === undefined ? undefined : this.overlayDir(request.overlay)
    const user = [...this.served.values()].find(s => s.overlay?.name === request.overlay)
    if (request.overlay !== undefined && user !== undefined) throw new OverlayInUseError(`overlay ${request.overlay} is in use by the export at ${user.id} (stop it with: cachepoint image unserve ${user.id})`)
    // the manifest from the catalog, or fetched from a peer and checked: nothing else moves yet
    const { cid, manifest } = await swarm.resolve(ref)
    const device = createImageDevice({
      libp2p, blockstore, manifest, manifestCid: cid, site: this.init.site, fetchTimeoutMs: request.fetchTimeoutMs,
      logger: logger.child({ export: name }),
      // reads come first: blocks they fetch are not pulled again, and the background pull yields while they fetch
      onBlockStored: (block) => { swarm.blockStored(cid, block) },
      onFetch: () => swarm.holdBack(cid),
      // reads from other sites cross the WAN: they spend its budget like any other transfer
      receiveBudget: this.init.receiveBudget ?? swarm.receiveBudget
    })
    let overlay: Overlay | undefined
    try {
      if (dir !== undefined) overlay = await createOverlay({ dir, base: device, baseId: cid.toString(), label: name })
      const server = createNbdServer({
        exports: [{ name, description: `CacheCloud ${name}${overlay === undefined ? '' : ` + overlay ${request.overlay ?? ''}`}`, device: overlay ?? device }],
        ...(socketPath === undefined ? { host: request.host ?? '127.0.0.1', port: request.port } : { socketPath }),
        logger: logger.child({ component: 'nbd', export: name }),
        ...(this.init.onNbdRequest !== undefined ? { onRequest: this.init.onNbdRequest } : {})
      })
      const { host, port } = await server.start()
      const id = socketPath ?? `${host}:${port}`
      if (socketPath === undefined && !isLoopback(host)) logger.warn({ id, ref: name }, 'NBD export %s of %s is reachable from other hosts: NBD has no authentication', id, name)
      const s: Served = {
        id, request: socketPath === undefined ? { ...request, ref: name, host, port } : { ...request, ref: name }, ref, cid, host, port, server, device,
        ...(socketPath === undefined ? {} : { socket: socketPath }), pull: request.pull !== false, startedAt: new Date().toISOString(), stopped: new AbortController(),
        ...(overlay === undefined ? {} : { overlay: { name: request.overlay as string, device: overlay } })
      }
      this.served.set(id, s)
      if (s.pull) this.pullBehind(s)
      await this.persist()
      logger.info({ id, ref: name, cid: cid.toString(), overlay: request.overlay, pull: s.pull }, 'serving %s at %s', name, uriOf(s))
      this.init.onChange()
      return await this.info(s)
    } catch (err) {
      device.close()
      await overlay?.close()
      throw err
    }
  }

  /** Pulls the rest of the version while it is served; a failed pull is tried again until the export stops. */
  private pullBehind (s: Served, attempt = 0): void {
    if (s.stopped.signal.aborted) return
    this.init.catalog.get(s.ref).then(async entry => {
      if (entry.state === 'complete') return
      await this.init.swarm.pull(s.ref, { signal: s.stopped.signal })
      this.init.onChange()
    }).catch((err: Error & { code?: string }) => {
      if (s.stopped.signal.aborted) return
      if (isPaused(err)) {
        // paused by the user: reads on demand go on, the pull waits for resume without filling the log
        setTimeout(() => { this.pullBehind(s, 0) }, EXPORT_PULL_RETRY_MS).unref()
        return
      }
      const delay = Math.min(30_000, EXPORT_PULL_RETRY_MS * 2 ** attempt)
      this.init.logger.warn({ err, ref: formatVersionRef(s.ref), retryInMs: delay }, 'background pull of %s failed, retrying in %d ms: %s', formatVersionRef(s.ref), delay, err.message)
      setTimeout(() => { this.pullBehind(s, attempt + 1) }, delay).unref()
    })
  }

  private async background (s: Served): Promise<ExportBackground> {
    const entry = await this.init.catalog.find(s.ref)
    const pull = this.init.swarm.status().filter(p => p.ref === formatVersionRef(s.ref)).at(-1)
    if (entry?.state === 'complete') {
      return { state: 'complete', blocksDone: pull?.blocksTotal ?? 0, blocksTotal: pull?.blocksTotal ?? 0, bytesDone: pull?.bytesTotal ?? 0, bytesTotal: pull?.bytesTotal ?? 0, rate: 0, etaSeconds: 0 }
    }
    if (pull === undefined) return { state: s.pull ? 'resolving' : 'off', blocksDone: 0, blocksTotal: 0, bytesDone: 0, bytesTotal: 0, rate: 0, etaSeconds: null }
    return {
      state: pull.state === 'complete' ? 'complete' : pull.state, blocksDone: pull.blocksDone, blocksTotal: pull.blocksTotal, bytesDone: pull.bytesDone,
      bytesTotal: pull.bytesTotal, rate: pull.rate, etaSeconds: pull.etaSeconds, ...(pull.error === undefined ? {} : { error: pull.error })
    }
  }

  private async info (s: Served): Promise<ExportInfo> {
    return {
      id: s.id,
      ref: formatVersionRef(s.ref),
      cid: s.cid.toString(),
      uri: uriOf(s),
      host: s.host,
      port: s.port,
      socket: s.socket ?? null,
      size: s.device.size,
      writable: s.overlay !== undefined,
      overlay: s.overlay?.name ?? null,
      clients: s.server.clients,
      connections: s.server.connectionsServed,
      startedAt: s.startedAt,
      reads: s.device.stats(),
      background: await this.background(s)
    }
  }

  /** Whether any export is served now (status listeners then hear of its reads every tick). */
  get serving (): boolean { return this.served.size > 0 }

  async exports (): Promise<ExportInfo[]> {
    return await Promise.all([...this.served.values()].map(async s => await this.info(s)))
  }

  private find (id: string): Served {
    const s = this.served.get(id) ?? [...this.served.values()].find(x => (x.socket === undefined ? String(x.port) : basename(x.socket)) === id)
    if (s === undefined) throw new ExportNotFoundError(`no export at ${id} (list them with: cachepoint image exports)`)
    return s
  }

  async unserve (id: string): Promise<ExportInfo> {
    const s = this.find(id)
    const info = await this.info(s)
    await this.close(s)
    await this.persist()
    this.init.logger.info({ id: s.id, ref: info.ref }, 'stopped serving %s at %s', info.ref, s.id)
    this.init.onChange()
    return info
  }

  private async close (s: Served): Promise<void> {
    this.served.delete(s.id)
    s.stopped.abort(new Error('export stopped'))
    await s.server.stop()
    s.device.close()
    await s.overlay?.device.close()
  }

  async overlays (): Promise<OverlayInfo[]> {
    const root = join(this.init.dataDir, OVERLAYS_DIR)
    const names = await readdir(root).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return []; throw err })
    const out: OverlayInfo[] = []
    for (const name of names.sort()) {
      if (!OVERLAY_NAME.test(name)) continue
      const info = await readOverlayInfo(join(root, name)).catch(() => undefined)
      if (info === undefined) continue
      const user = [...this.served.values()].find(s => s.overlay?.name === name)
      const written = user?.overlay?.device.writtenChunks ?? await countWritten(join(root, name))
      out.push({ name, ref: info.label, baseCid: info.baseId, size: info.size, writtenBytes: Math.min(info.size, written * info.chunkBytes), createdAt: info.createdAt, inUseBy: user?.id ?? null })
    }
    return out
  }

  async discardOverlay (name: string): Promise<OverlayInfo> {
    const dir = this.overlayDir(name)
    const info = (await this.overlays()).find(o => o.name === name)
    if (info === undefined) throw new OverlayNotFoundError(`no overlay named ${name} (list them with: cachepoint image overlays)`)
    if (info.inUseBy !== null) throw new OverlayInUseError(`overlay ${name} is in use by the export at ${info.inUseBy} (stop it with: cachepoint image unserve ${info.inUseBy})`)
    await rm(dir, { recursive: true, force: true })
    this.init.logger.info({ overlay: name, ref: info.ref }, 'discarded overlay %s', name)
    return info
  }

  /** Records the exports to serve again at the next start (unserve removes them; shutdown keeps them). */
  private async persist (): Promise<void> {
    if (this.restoring) return
    const list = [...this.served.values()].map(s => s.request)
    await writeFileAtomic(join(this.init.dataDir, EXPORTS_FILE), JSON.stringify(list, null, 2) + '\n')
  }

  private restoring = false

  /** Serves again the exports of the last run, at the same addresses; one that cannot be served is logged and dropped. */
  async restore (): Promise<void> {
    let list: ServeRequest[]
    try {
      list = JSON.parse(await readFile(join(this.init.dataDir, EXPORTS_FILE), 'utf8')) as ServeRequest[]
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') this.init.logger.warn({ err }, 'cannot read %s: %s', EXPORTS_FILE, (err as Error).message)
      return
    }
    this.restoring = true
    try {
      for (const request of list) {
        try {
          await this.serve(request)
        } catch (err) {
          const where = request.port === undefined ? 'its Unix socket' : `${request.host ?? '127.0.0.1'}:${request.port}`
          this.init.logger.warn({ err, ref: request.ref, port: request.port }, 'cannot serve %s at %s again: %s', request.ref, where, (err as Error).message)
        }
      }
    } finally {
      this.restoring = false
    }
    await this.persist()
  }

  /** Stops every export (daemon shutdown); overlays are flushed. */
  async stop (): Promise<void> {
    await Promise.allSettled([...this.served.values()].map(async s => { await this.close(s) }))
  }
}

async function countWritten (dir: string): Promise<number> {
  const map = await readFile(join(dir, 'map')).catch(() => new Uint8Array(0))
  let n = 0
  for (const byte of map) for (let b = byte; b !== 0; b &= b - 1) n++
  return n
}

/** The exports part of the control API, delegating to the running daemon's NbdExports. */
export function exportsApi (exports: () => NbdExports): ExportsApi {
  return {
    serve: async (request) => await exports().serve(request),
    exports: async () => await exports().exports(),
    unserve: async (id) => await exports().unserve(id),
    overlays: async () => await exports().overlays(),
    discardOverlay: async (name) => await exports().discardOverlay(name)
  }
}

/** nbd+unix:///?socket=PATH (qemu, qemu-io, nbdinfo, nbdfuse) or nbd://HOST:PORT. */
function uriOf (s: Served): string {
  if (s.socket !== undefined) return `nbd+unix:///?socket=${s.socket.replace(/[^A-Za-z0-9/._~@-]/g, (c) => encodeURIComponent(c))}`
  return `nbd://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`
}

function isLoopback (host: string): boolean { return host.startsWith('127.') || host === '::1' }
