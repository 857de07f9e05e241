/**
 * One node of the dcstore-scale bench, as its own process (the node side's
 * sealing and Noise would otherwise share one thread with every other node):
 * takes a snapshot of FOLDER, prints {"event":"ready","peerId","newBytes"},
 * waits for a line on stdin, replicates to the stores given (in order), and
 * prints {"event":"replicated",...}.
 *
 *   node dcstore-scale-node.js HOME FOLDER USER DISCOVERY_PUBLIC STORE_ADDR...
 */
import '@cachecloud/core/polyfill'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { createBlockstore } from '@cachecloud/blockstore'
import { createNetwork, loadOrCreatePeerKey } from '@cachecloud/network'
import { createPersonalFolder } from '@cachecloud/personal'

const [home, folder, user, discovery, ...stores] = process.argv.slice(2)
const blockstore = createBlockstore({ path: join(home, 'blocks') })
await blockstore.start()
const libp2p = await createNetwork({ privateKey: await loadOrCreatePeerKey(join(home, 'peer.key')), listen: ['/ip4/127.0.0.1/tcp/0'] })
const sync = createPersonalFolder({
  user, folder, stateDir: join(home, 'personal'), blockstore, node: libp2p.peerId.toString(), discoveryKey: discovery, watch: false,
  libp2p, store: stores[0], fallbackStores: stores.slice(1)
})
const snap = await sync.snapshot()
process.stdout.write(JSON.stringify({ event: 'ready', peerId: libp2p.peerId.toString(), newBytes: snap.newBytes }) + '\n')
const lines = createInterface({ input: process.stdin })[Symbol.asyncIterator]()
await lines.next()
const t0 = performance.now()
const r = await sync.replicate()
process.stdout.write(JSON.stringify({ event: 'replicated', ...r, ms: performance.now() - t0 }) + '\n')
await blockstore.stop()
await libp2p.stop()
process.exit(0)
