import { join } from 'node:path'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'
import type { BlockBackend } from './backend.js'
import { checkKey, checkPut } from './backend-checks.js'
import { STORE_FILES } from './constants.js'

/**
 * The embedded default: one pack block store per user under
 * `<data>/blocks/<user>` (docs/formats/blockstore.md). Opening a pack store
 * recovers it, so one process only: the store holds the data directory's
 * lock (`store.lock`) before it opens any.
 */
export class LocalDirBackend implements BlockBackend {
  readonly kind = 'local'
  readonly multiWriter = false
  readonly worm = false
  private readonly stores = new Map<string, Promise<Blockstore>>()

  /** `beforeOpen` runs before the first block store is opened (the store takes its data-directory lock there). */
  constructor (private readonly dataDir: string, private readonly beforeOpen: () => Promise<void> = async () => {}) {}

  async start (): Promise<void> {}

  async stop (): Promise<void> {
    for (const s of this.stores.values()) await (await s.catch(() => undefined))?.stop()
    this.stores.clear()
  }

  async blockstore (user: string): Promise<Blockstore> {
    let store = this.stores.get(user)
    if (store === undefined) {
      store = (async () => {
        await this.beforeOpen()
        const s = createBlockstore({ path: join(this.dataDir, STORE_FILES.blocks, user), compressionLevel: 0 /* sealed: ciphertext does not compress */ })
        await s.start()
        return s
      })()
      store.catch(() => this.stores.delete(user))
      this.stores.set(user, store)
    }
    return await store
  }

  /** Users whose block store this process opened. */
  opened (): number { return this.stores.size }

  async put (
    user: string,
    cid: CID,
    bytes: Uint8Array
  ): Promise<boolean> { checkPut(user, cid, bytes); return await (await this.blockstore(user)).put(cid, bytes) }

  async get (user: string, cid: CID): Promise<Uint8Array> { checkKey(user, cid); return await (await this.blockstore(user)).get(cid) }
  async has (user: string, cid: CID): Promise<boolean> { checkKey(user, cid); return await (await this.blockstore(user)).has(cid) }
  async size (user: string, cid: CID): Promise<number | undefined> { checkKey(user, cid); return await (await this.blockstore(user)).storedSize(cid) }
  async * cids (user: string): AsyncIterable<CID> { yield * (await this.blockstore(user)).cids() }
  async delete (user: string, cid: CID): Promise<void> { checkKey(user, cid); await (await this.blockstore(user)).delete(cid) }
  async sync (user: string): Promise<void> { await (await this.blockstore(user)).sync() }
}
