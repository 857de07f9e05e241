import type { ExportBackground, ExportInfo, ServeRequest } from '@cachecloud/control'
import { formatVersionRef, type CID, type VersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import type { NbdServer, Overlay } from '@cachecloud/nbd'
import type { ImageDevice } from '@cachecloud/ondemand'
import type { Swarm } from '@cachecloud/swarm'
import type { OverlayChain } from './exports-clones.js'
import type { Pool } from './exports-pool.js'

/** One export being served: its listener, the version's device, its overlay or pool, and its background pull. */
export interface Served {
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
  overlay?: { name: string, device: Overlay, chain: OverlayChain, writable: boolean }
  pool?: Pool
  pull: boolean
  startedAt: string
  stopped: AbortController
}

/** nbd+unix:///?socket=PATH (qemu, qemu-io, nbdinfo, nbdfuse) or nbd://HOST:PORT. */
export function uriOf (s: Served): string {
  if (s.socket !== undefined) return `nbd+unix:///?socket=${s.socket.replace(/[^A-Za-z0-9/._~@-]/g, (c) => encodeURIComponent(c))}`
  return `nbd://${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`
}

/** What the API reports of an export: where it is, its clients and reads, and how far its background pull is. */
export async function exportInfo (s: Served, catalog: Catalog, swarm: Swarm): Promise<ExportInfo> {
  return {
    id: s.id,
    ref: formatVersionRef(s.ref),
    cid: s.cid.toString(),
    uri: uriOf(s),
    host: s.host,
    port: s.port,
    socket: s.socket ?? null,
    size: s.device.size,
    writable: s.overlay?.writable === true || s.pool !== undefined,
    overlay: s.overlay?.name ?? null,
    pool: s.pool === undefined ? null : s.pool.info(uriOf(s)),
    clients: s.server.clients,
    connections: s.server.connectionsServed,
    startedAt: s.startedAt,
    reads: s.device.stats(),
    background: await background(s, catalog, swarm)
  }
}

/** The background pull of an exported version: complete in the catalog, the swarm's pull of it, or none (yet). */
async function background (s: Served, catalog: Catalog, swarm: Swarm): Promise<ExportBackground> {
  const entry = await catalog.find(s.ref)
  const pull = swarm.status().filter(p => p.ref === formatVersionRef(s.ref)).at(-1)
  if (entry?.state === 'complete') {
    return { state: 'complete', blocksDone: pull?.blocksTotal ?? 0, blocksTotal: pull?.blocksTotal ?? 0, bytesDone: pull?.bytesTotal ?? 0, bytesTotal: pull?.bytesTotal ?? 0, rate: 0, etaSeconds: 0 }
  }
  if (pull === undefined) return { state: s.pull ? 'resolving' : 'off', blocksDone: 0, blocksTotal: 0, bytesDone: 0, bytesTotal: 0, rate: 0, etaSeconds: null }
  return {
    state: pull.state === 'complete' ? 'complete' : pull.state, blocksDone: pull.blocksDone, blocksTotal: pull.blocksTotal, bytesDone: pull.bytesDone,
    bytesTotal: pull.bytesTotal, rate: pull.rate, etaSeconds: pull.etaSeconds, ...(pull.error === undefined ? {} : { error: pull.error })
  }
}
