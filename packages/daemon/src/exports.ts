import { createHash } from 'node:crypto'
import { chmod, mkdir, readFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { Logger } from 'pino'
import type { Libp2p } from '@libp2p/interface'
import type { Blockstore } from '@cachecloud/blockstore'
import type { CommitOverlayRequest, CommitResultInfo, ExportInfo, ExportsApi, OverlayInfo, RebaseOverlayRequest, ServeRequest } from '@cachecloud/control'
import { formatVersionRef, isPaused, parseVersionRef, retryDelay, writeFileAtomic, type ProgressEvent, type VersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import type { PublisherKey } from '@cachecloud/manifest'
import { AddressInUseError, createNbdServer, DEFAULT_CACHE_MAX_BYTES, DEFAULT_MAX_CLIENTS, MAX_SOCKET_PATH_BYTES, readOverlayInfo, type NbdRequestEvent, type Overlay } from '@cachecloud/nbd'
import { createImageDevice } from '@cachecloud/ondemand'
import type { Swarm } from '@cachecloud/swarm'
import { EXPORT_PULL_RETRY, EXPORTS_FILE, OVERLAYS_DIR, POOL_CONNECTIONS_PER_EXPORT } from './constants.js'
import { ExportNotFoundError, InvalidOverlayNameError, OverlayNotFoundError } from './errors.js'
import { assertFree, cloneOverlay, commitOverlay, discardOverlay, listOverlays, OVERLAY_NAME, openChain, rebaseOverlay, type ClonesContext, type OverlayChain, type OverlayUser } from './exports-clones.js'
import { openPool, poolMemberNames, type Pool } from './exports-pool.js'
import { exportInfo, uriOf, type Served } from './exports-served.js'

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
  /** Signs versions committed from overlays. */
  publisherKey: PublisherKey
  /** Announces a committed version (commit --publish). */
  publish?: (ref: string) => Promise<unknown>
  /** Memory budget of a pool's shared read cache. Default DEFAULT_CACHE_MAX_BYTES. */
  poolCacheBytes?: number
}

/** Directory of the exports' Unix sockets, inside the data directory: mode 0700, each socket 0600. */
const SOCKETS_DIR = 'nbd'

/** The daemon's `exports` subsystem: NBD exports of image versions served on demand, and their copy-on-write overlays. */
export class NbdExports implements ExportsApi {
  private readonly served = new Map<string, Served>()
  /** Overlays an operation holds now (a commit reading it, a serve starting, a clone, discard or rebase), and what it is. */
  private readonly held = new Map<string, string>()

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
    const file = `${name}${overlay === undefined ? '' : `.${overlay}`}.sock`
    const path = join(dir, file)
    if (Buffer.byteLength(path) <= MAX_SOCKET_PATH_BYTES) return path
    return join(dir, `${createHash('sha256').update(file).digest('hex').slice(0, 16)}.sock`)
  }

  async serve (request: ServeRequest): Promise<ExportInfo> {
    const ref = parseVersionRef(request.ref)
    const name = formatVersionRef(ref)
    const socketPath = request.port === undefined ? await this.socketPath(name, request.pool !== undefined ? `pool-${request.pool.prefix}` : request.overlay === undefined ? undefined : `overlay-${request.overlay}`) : undefined
    if (socketPath !== undefined && this.served.has(socketPath)) throw new AddressInUseError(`${name} is already served at ${socketPath} (serve it again on TCP with --nbd 127.0.0.1:PORT, or stop it with: cachepoint image unserve ${basename(socketPath)})`)
    const dir = request.overlay === undefined ? undefined : this.overlayDir(request.overlay)
    const claimed = request.pool !== undefined ? poolMemberNames(request.pool) : request.overlay !== undefined ? [request.overlay] : []
    for (const o of claimed) {
      this.overlayDir(o)
      assertFree((n) => this.userOf(n), o, 'serving it again')
    }
    // held from the check until the export is registered (or fails): a commit or another serve meanwhile is refused
    for (const o of claimed) this.held.set(o, 'an export being started')
    try {
      return await this.open(request, ref, name, socketPath, dir)
    } finally {
      for (const o of claimed) this.held.delete(o)
    }
  }

  /**
   * Runs `fn` holding an overlay: checked free and held in the same turn, so that nothing else
   * starts on it meanwhile; `fn` gets a userOf that does not count this hold.
   */
  private async holding<T> (name: string, reason: string, what: string, fn: (userOf: (n: string) => OverlayUser | undefined) => Promise<T>): Promise<T> {
    assertFree((n) => this.userOf(n), name, what)
    this.held.set(name, reason)
    try {
      return await fn((n) => n === name ? undefined : this.userOf(n))
    } finally {
      this.held.delete(name)
    }
  }

  private async open (request: ServeRequest, ref: VersionRef, name: string, socketPath: string | undefined, dir: string | undefined): Promise<ExportInfo> {
    const { swarm, libp2p, blockstore, logger } = this.init
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
    let chain: OverlayChain | undefined
    let pool: Pool | undefined
    try {
      // a frozen overlay (the base of clones) is served read-only: its state must not move under them
      const frozen = dir !== undefined && (await readOverlayInfo(dir).catch(() => undefined))?.frozen === true
      if (dir !== undefined && request.overlay !== undefined) {
        chain = await openChain(
          join(this.init.dataDir, OVERLAYS_DIR),
          request.overlay,
          device,
          cid.toString(),
          name,
          frozen
        )
      }
      const top = chain?.top
      const overlay = top === undefined || !frozen ? top : undefined
      const readOnly = top !== undefined && frozen ? { size: top.size, read: top.read.bind(top) } : undefined
      if (request.pool !== undefined) {
        pool = await openPool({
          root: join(this.init.dataDir, OVERLAYS_DIR),
          base: device,
          baseId: cid.toString(),
          label: name,
          ...request.pool,
          cacheBytes: this.init.poolCacheBytes ?? DEFAULT_CACHE_MAX_BYTES
        })
      }
      const server = createNbdServer({
        exports: pool?.exports ?? [{ name, description: `CacheCloud ${name}${top === undefined ? '' : ` + overlay ${request.overlay ?? ''}`}`, device: overlay ?? readOnly ?? device }],
        ...(socketPath === undefined ? { host: request.host ?? '127.0.0.1', port: request.port } : { socketPath }),
        ...(pool === undefined ? {} : { maxClients: Math.max(DEFAULT_MAX_CLIENTS, POOL_CONNECTIONS_PER_EXPORT * pool.names.length) }),
        logger: logger.child({ component: 'nbd', export: name }),
        ...(this.init.onNbdRequest !== undefined ? { onRequest: this.init.onNbdRequest } : {})
      })
      const { host, port } = await server.start()
      const id = socketPath ?? `${host}:${port}`
      if (socketPath === undefined && !isLoopback(host)) logger.warn({ id, ref: name }, 'NBD export %s of %s is reachable from other hosts: NBD has no authentication', id, name)
      const s: Served = {
        id, request: socketPath === undefined ? { ...request, ref: name, host, port } : { ...request, ref: name }, ref, cid, host, port, server, device,
        ...(socketPath === undefined ? {} : { socket: socketPath }), pull: request.pull !== false, startedAt: new Date().toISOString(),
        stopped: new AbortController(),
        ...(top === undefined || chain === undefined
          ? {}
          : {
              overlay: {
                name: request.overlay as string,
                device: top,
                chain,
                writable: overlay !== undefined
              }
            }),
        ...(pool === undefined ? {} : { pool })
      }
      this.served.set(id, s)
      if (s.pull) this.pullBehind(s)
      await this.persist()
      logger.info({ id, ref: name, cid: cid.toString(), overlay: request.overlay, pull: s.pull }, 'serving %s at %s', name, uriOf(s))
      this.init.onChange()
      return await this.info(s)
    } catch (err) {
      device.close()
      await chain?.close()
      await pool?.close()
      throw err
    }
  }

  /** The export writing to an overlay now (alone or as a pool member), if any. */
  private userOf (name: string): OverlayUser | undefined {
    const busy = this.held.get(name)
    if (busy !== undefined) return { busy }
    const id = [...this.served.values()].find(s => (s.overlay?.name === name && s.overlay.writable) || s.pool?.names.includes(name) === true)?.id
    return id === undefined ? undefined : { id }
  }

  private clones (): ClonesContext {
    const { catalog, blockstore, publisherKey, publish } = this.init
    return {
      root: join(this.init.dataDir, OVERLAYS_DIR), catalog, blockstore, publisherKey, ...(publish === undefined ? {} : { publish }),
      userOf: (name) => this.userOf(name),
      openVersion: async (cid, ref) => {
        const manifest = await catalog.manifest(parseVersionRef(ref))
        return {
          device: createImageDevice({
            libp2p: this.init.libp2p,
            blockstore,
            manifest,
            manifestCid: cid,
            logger: this.init.logger.child({ commit: ref })
          })
        }
      }
    }
  }

  async commitOverlay (request: CommitOverlayRequest, onProgress: (event: ProgressEvent) => void = () => {}): Promise<CommitResultInfo> {
    this.overlayDir(request.name)
    // while it is read, nothing may write to it, discard or rebase it
    const result = await this.holding(request.name, 'a commit', 'committing it', async (userOf) => await commitOverlay({ ...this.clones(), userOf }, request, onProgress))
    this.init.logger.info({ ...result }, 'committed overlay %s as %s', request.name, result.ref)
    this.init.onChange()
    return result
  }

  async cloneOverlay (request: { from: string, name: string }): Promise<OverlayInfo> {
    this.overlayDir(request.from)
    this.overlayDir(request.name)
    await this.holding(request.from, 'a clone', 'cloning it', async (userOf) => { await cloneOverlay({ ...this.clones(), userOf }, request.from, request.name) })
    this.init.logger.info({ from: request.from, overlay: request.name }, 'cloned overlay %s as %s', request.from, request.name)
    return await this.overlayInfo(request.name)
  }

  async rebaseOverlay (request: RebaseOverlayRequest): Promise<OverlayInfo> {
    this.overlayDir(request.name)
    const ref = parseVersionRef(request.ref)
    await this.holding(request.name, 'a rebase', 'rebasing it', async (userOf) => {
      const { cid, manifest } = await this.init.swarm.resolve(ref)
      await rebaseOverlay({ ...this.clones(), userOf }, request.name, cid, formatVersionRef(ref), manifest.size)
    })
    this.init.logger.info({ overlay: request.name, ref: request.ref }, 'rebased overlay %s on %s, its writes dropped', request.name, request.ref)
    return await this.overlayInfo(request.name)
  }

  private async overlayInfo (name: string): Promise<OverlayInfo> {
    const info = (await this.overlays()).find(o => o.name === name)
    if (info === undefined) throw new OverlayNotFoundError(`no overlay named ${name} (list them with: cachepoint image overlays)`)
    return info
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
        setTimeout(() => { this.pullBehind(s, 0) }, EXPORT_PULL_RETRY.baseMs).unref()
        return
      }
      const delay = retryDelay(EXPORT_PULL_RETRY, attempt) ?? EXPORT_PULL_RETRY.maxMs
      this.init.logger.warn({ err, ref: formatVersionRef(s.ref), retryInMs: delay }, 'background pull of %s failed, retrying in %d ms: %s', formatVersionRef(s.ref), delay, err.message)
      setTimeout(() => { this.pullBehind(s, attempt + 1) }, delay).unref()
    })
  }

  private async info (s: Served): Promise<ExportInfo> {
    return await exportInfo(s, this.init.catalog, this.init.swarm)
  }

  /** Whether any export is served now (status listeners then hear of its reads every tick). */
  get serving (): boolean { return this.served.size > 0 }

  async list (): Promise<ExportInfo[]> {
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
    await s.overlay?.chain.close()
    await s.pool?.close()
  }

  async overlays (): Promise<OverlayInfo[]> {
    const live = new Map<string, Overlay>()
    for (const x of this.served.values()) {
      if (x.overlay !== undefined) live.set(x.overlay.name, x.overlay.device)
      for (const m of x.pool?.members ?? []) live.set(m.name, m.overlay)
    }
    return await listOverlays(this.clones(), (name) => live.get(name))
  }

  async discardOverlay (name: string): Promise<OverlayInfo> {
    this.overlayDir(name)
    const info = await this.overlayInfo(name)
    await this.holding(name, 'a discard', 'discarding it', async (userOf) => { await discardOverlay({ ...this.clones(), userOf }, name) })
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

function isLoopback (host: string): boolean { return host.startsWith('127.') || host === '::1' }
