/**
 * Which blocks the image protocols may serve: the manifests and blocks of the
 * versions in the catalog (complete or being pulled), nothing else the block
 * store holds (personal folders' sealed blocks live in the same store and
 * travel only over the personal protocols, to enrolled nodes). The set is
 * rebuilt when the catalog's versions change, looked at no more than once a
 * second when a peer asks for a block outside it.
 */
import type { CID } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'

const REFRESH_INTERVAL_MS = 1000

export class ServableBlocks {
  private cids = new Set<string>()
  private signature = ''
  private checkedAt = 0
  private refreshing: Promise<void> | undefined

  constructor (private readonly catalog: Catalog) {}

  /** True when `cid` belongs to a catalogued version; refreshes the set first if it is stale. */
  async has (cid: CID): Promise<boolean> {
    const key = cid.toString()
    if (this.cids.has(key)) return true
    if (Date.now() - this.checkedAt >= REFRESH_INTERVAL_MS) await this.refresh()
    return this.cids.has(key)
  }

  /** Rebuilds the set if the catalog's versions changed since the last look. */
  async refresh (): Promise<void> {
    this.refreshing ??= this.rebuild().finally(() => { this.refreshing = undefined })
    await this.refreshing
  }

  private async rebuild (): Promise<void> {
    this.checkedAt = Date.now()
    const entries = await this.catalog.list()
    const signature = entries.map(e => e.cid.toString()).sort().join(',')
    if (signature === this.signature) return
    this.cids = await this.catalog.liveCids()
    this.signature = signature
  }
}
