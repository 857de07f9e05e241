import { join } from 'node:path'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import type { CachePointLibp2p } from '@cachecloud/network'
import { createPersonalFolder, type PersonalFolder, type PersonalFolderInit } from '@cachecloud/personal'

export interface NodeSyncInit {
  /** The test's directory: the node's block store goes in DIR/PREFIX-blocks, its folder state in DIR/PREFIX-state. */
  dir: string
  /** Default `node`. */
  prefix?: string
  user: string
  folder: string
  nodeHost: CachePointLibp2p
  /** The store's host: the node replicates to its first address. */
  storeHost: CachePointLibp2p
  discoveryKey: PersonalFolderInit['discoveryKey']
  /** Further options of the sync (timings); the folder is never watched. */
  options?: Partial<PersonalFolderInit>
}

/** A node's personal folder replicating to a store over real libp2p on loopback, with its own started block store (stop it in `after`). */
export async function startNodeSync (init: NodeSyncInit): Promise<{ blockstore: Blockstore, sync: PersonalFolder }> {
  const prefix = init.prefix ?? 'node'
  const blockstore = createBlockstore({ path: join(init.dir, `${prefix}-blocks`) })
  await blockstore.start()
  const sync = createPersonalFolder({
    user: init.user, folder: init.folder, stateDir: join(init.dir, `${prefix}-state`), blockstore, node: init.nodeHost.peerId.toString(),
    discoveryKey: init.discoveryKey, libp2p: init.nodeHost, store: init.storeHost.getMultiaddrs()[0], watch: false, ...init.options
  })
  return { blockstore, sync }
}
