/**
 * A CachePoint's personal-folder side as a child process, for tests that kill
 * it (the daemon wiring is not there yet). Prints one JSON line per event.
 *
 *   node personal-node.js peer-id   --home DIR
 *   node personal-node.js snapshot  --home DIR --folder DIR --user U --discovery x25519:...
 *   node personal-node.js replicate --home DIR --folder DIR --user U --discovery x25519:... --store MULTIADDR [--store MULTIADDR ...: tried in order]
 *   node personal-node.js pull      --home DIR --folder DIR --user U --discovery x25519:... --store MULTIADDR --key-file FILE
 */
import '@cachecloud/core/polyfill'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { createBlockstore } from '@cachecloud/blockstore'
import { createPersonalFolder } from '@cachecloud/personal'

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: { home: { type: 'string' }, folder: { type: 'string' }, user: { type: 'string' }, discovery: { type: 'string' }, store: { type: 'string', multiple: true }, 'key-file': { type: 'string' } }
})
const home = values.home ?? '.'
const emit = (event: Record<string, unknown>): void => { process.stdout.write(JSON.stringify(event) + '\n') }
await mkdir(home, { recursive: true })
// libp2p takes 1-2 s to load: only `peer-id` (once) and `replicate` load it
const network = async (): Promise<typeof import('@cachecloud/network')> => await import('@cachecloud/network')
const loadKey = async (): Promise<Awaited<ReturnType<Awaited<ReturnType<typeof network>>['loadOrCreatePeerKey']>>> => await (await network()).loadOrCreatePeerKey(join(home, 'peer.key'))
let node = await readFile(join(home, 'peer-id.txt'), 'utf8').catch(() => '')
if (node === '') {
  const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
  node = peerIdFromPrivateKey(await loadKey()).toString()
  await writeFile(join(home, 'peer-id.txt'), node)
}

if (positionals[0] === 'peer-id') {
  emit({ event: 'peer-id', peerId: node })
} else {
  const blockstore = createBlockstore({ path: join(home, 'blocks') })
  await blockstore.start()
  const libp2p = positionals[0] === 'replicate' || positionals[0] === 'pull' ? await (await network()).createNetwork({ privateKey: await loadKey(), listen: ['/ip4/127.0.0.1/tcp/0'] }) : undefined
  const sync = createPersonalFolder({
    user: values.user ?? 'alice', folder: values.folder ?? '.', stateDir: join(home, 'personal'), blockstore, node,
    discoveryKey: values.discovery ?? '', watch: false,
    ...(values['key-file'] === undefined ? {} : { userKeyFile: values['key-file'] }),
    ...(libp2p === undefined ? {} : { libp2p, store: values.store?.[0] ?? '', fallbackStores: values.store?.slice(1) ?? [] }),
    onProgress: e => { if (e.type === 'personal:replicate') emit({ event: 'progress', bytes: e.done }) }
  })
  try {
    if (positionals[0] === 'snapshot') {
      const s = await sync.snapshot()
      emit({ event: 'snapshot', cid: s.cid.toString(), time: s.time, created: s.created, files: s.files, newBytes: s.newBytes, hashedFiles: s.stats.hashedFiles })
    } else if (positionals[0] === 'pull') {
      emit({ event: 'pulling' })
      const r = await sync.mergeRemotes()
      emit({ event: 'pulled', ...r })
    } else {
      const r = await sync.replicate()
      emit({ event: 'replicated', ...r })
    }
    emit({ event: 'status', ...(await sync.status()) })
  } finally {
    await blockstore.stop()
    await libp2p?.stop()
  }
}
