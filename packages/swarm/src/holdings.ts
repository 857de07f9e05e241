import type { CID } from '@cachecloud/core'
import type { ImageManifest } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import type { Catalog } from '@cachecloud/image'
import { Bitmap } from './bitmap.js'
import type { HaveAnswer } from './have-wire.js'

/** Manifest indexes of each distinct block (by multihash), so one stored block sets every index holding it. */
export function indexesByBlock (manifest: ImageManifest): Map<string, number[]> {
  const map = new Map<string, number[]>()
  manifest.blocks.forEach((cid, i) => {
    if (cid === null) return
    const key = blockKey(cid)
    const list = map.get(key)
    if (list === undefined) map.set(key, [i])
    else list.push(i)
  })
  return map
}

export function blockKey (cid: CID): string { return Buffer.from(cid.multihash.bytes).toString('latin1') }

/** Bitmap of the manifest indexes whose block the store holds now. */
export async function scanHeld (manifest: ImageManifest, blockstore: Blockstore): Promise<Bitmap> {
  const bitmap = new Bitmap(manifest.blocks.length)
  for (const indexes of indexesByBlock(manifest).values()) {
    if (await blockstore.has(manifest.blocks[indexes[0]] as CID)) for (const i of indexes) bitmap.set(i)
  }
  return bitmap
}

/** A pull in progress as the have protocol answers it. */
export interface LivePull {
  held: Bitmap
  /** Manifest indexes requested from other sites and not yet received. */
  claims: Bitmap
  /** A peer asked what this node holds of the version (it counts this node as pulling from now on). */
  onAsked: (peer: string) => void
}

/**
 * What this node holds per version, for the have protocol: complete versions
 * from the catalog, live bitmaps of pulls in progress, and (cached) scans of
 * versions left half-pulled.
 */
export class HoldingsTable {
  /** Pulls in progress, by manifest CID. */
  readonly live = new Map<string, LivePull>()
  private readonly scanned = new Map<string, { at: number, bitmap: Bitmap }>()

  constructor (private readonly catalog: Catalog, private readonly blockstore: Blockstore, private readonly site: string) {}

  async answer (cid: CID, peer: string): Promise<HaveAnswer> {
    const entry = (await this.catalog.list()).find(e => e.cid.equals(cid))
    if (entry === undefined) return { state: 'none', site: this.site }
    if (entry.state === 'complete') return { state: 'complete', site: this.site }
    const key = cid.toString()
    const live = this.live.get(key)
    if (live !== undefined) {
      // recorded before the answer is built: the answer lists every claim made before the peer counted this node
      live.onAsked(peer)
      return { state: 'partial', site: this.site, count: live.held.size, bitmap: live.held.bytes.slice(), claimed: live.claims.bytes.slice() }
    }
    let bitmap: Bitmap
    const cached = this.scanned.get(key)
    if (cached !== undefined && Date.now() - cached.at < 10_000) bitmap = cached.bitmap
    else {
      bitmap = await scanHeld(await this.catalog.manifest(entry), this.blockstore)
      this.scanned.set(key, { at: Date.now(), bitmap })
    }
    return { state: 'partial', site: this.site, count: bitmap.size, bitmap: bitmap.bytes.slice(), claimed: new Uint8Array(bitmap.bytes.byteLength) }
  }
}
