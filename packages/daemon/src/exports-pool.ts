import type { PoolInfo } from '@cachecloud/control'
import { createBlockCache, type BlockCache, type BlockDevice, type NbdExport, type Overlay } from '@cachecloud/nbd'
import { POOL_OPEN_CONCURRENCY } from './constants.js'
import { openChain, type OverlayChain } from './exports-clones.js'

export interface PoolInit {
  /** Directory of the overlays. */
  root: string
  /** The version, read through one shared cache by every member. */
  base: BlockDevice
  baseId: string
  label: string
  count: number
  prefix: string
  cacheBytes: number
}

/** N writable exports of one version on one NBD listener: an overlay each, one read cache for all. */
export interface Pool {
  names: string[]
  members: Array<{ name: string, overlay: Overlay }>
  exports: NbdExport[]
  cache: BlockCache
  readyMs: number
  info(uri: string): PoolInfo
  close(): Promise<void>
}

/** PREFIX-1 ... PREFIX-count: the members' export and overlay names. */
export function poolMemberNames (pool: { count: number, prefix: string }): string[] {
  return Array.from({ length: pool.count }, (_, i) => `${pool.prefix}-${i + 1}`)
}

/** The URI of export `name` on the listener at `uri` (nbd://HOST:PORT/NAME, nbd+unix:///NAME?socket=...). */
function memberUri (uri: string, name: string): string {
  if (uri.startsWith('nbd+unix:///?')) return `nbd+unix:///${encodeURIComponent(name)}?${uri.slice('nbd+unix:///?'.length)}`
  return `${uri}/${encodeURIComponent(name)}`
}

/** Opens (or creates) the members' overlays over a shared cache of the base; existing overlays keep their writes. */
export async function openPool (init: PoolInit): Promise<Pool> {
  const started = performance.now()
  const cache = createBlockCache(init.base, { maxBytes: init.cacheBytes })
  const names = poolMemberNames(init)
  const chains: OverlayChain[] = new Array(names.length)
  const close = async (): Promise<void> => { for (const c of chains) await c?.close() }
  // a few at once: each new overlay waits on an fsync of its meta.json, and those overlap
  let next = 0
  const worker = async (): Promise<void> => {
    while (next < names.length) {
      const i = next++
      chains[i] = await openChain(init.root, names[i], cache, init.baseId, init.label, false)
    }
  }
  const opening = await Promise.allSettled(Array.from({ length: Math.min(POOL_OPEN_CONCURRENCY, names.length) }, worker))
  const failed = opening.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed !== undefined) {
    await close()
    throw failed.reason
  }
  const members = names.map((name, i) => ({ name, overlay: chains[i].top }))
  const readyMs = performance.now() - started
  return {
    names,
    members,
    cache,
    readyMs,
    exports: members.map(m => ({ name: m.name, description: `CacheCloud ${init.label} + overlay ${m.name} (pool ${init.prefix})`, device: m.overlay })),
    info: (uri) => ({
      prefix: init.prefix,
      count: init.count,
      members: names.map(name => ({ name, uri: memberUri(uri, name) })),
      cache: { ...cache.stats(), maxBytes: init.cacheBytes },
      readyMs
    }),
    close
  }
}
