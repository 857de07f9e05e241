/**
 * Where the replication bytes of a small edit go: one folder of FILES files
 * (PER_DIR per directory), 1% of them rewritten, replicated to an in-process
 * store on loopback; prints the new blocks by kind (chunks, directory pages,
 * directory tops, record) and the protocol's framing and WANTs.
 * Run: node bench/dist/src/personal-overhead.js [files]
 */
import '@cachecloud/core/polyfill'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore } from '@cachecloud/blockstore'
import { DAG_CBOR_CODEC } from '@cachecloud/core'
import { createDcStore } from '@cachecloud/dcstore'
import { createNetwork } from '@cachecloud/network'
import { createPersonalSync, dirLinks, generateX25519KeyPair } from '@cachecloud/personal'

const FILES = Number(process.argv[2] ?? 20_000)
const PER_DIR = 100
const content = (seed: string, size: number): Buffer => createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(size))

const dir = await mkdtemp(join(tmpdir(), 'cc-overhead-'))
try {
  const folder = join(dir, 'home')
  for (let d = 0; d * PER_DIR < FILES; d++) {
    await mkdir(join(folder, `dir${d}`), { recursive: true })
    for (let f = 0; f < PER_DIR && d * PER_DIR + f < FILES; f++) {
      const size = Math.floor(8192 * (0.25 + 1.5 * (((d * PER_DIR + f) * 7919) % 1000) / 1000))
      await writeFile(join(folder, `dir${d}`, `f${f}.dat`), content(`v1/${d}/${f}`, size))
    }
  }
  const discovery = generateX25519KeyPair()
  const storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const nodeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const store = createDcStore({ path: join(dir, 'store'), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'bench' })
  await store.start()
  await store.enroll(nodeHost.peerId.toString(), ['alice'])
  const blockstore = createBlockstore({ path: join(dir, 'node-blocks') })
  await blockstore.start()
  const sync = createPersonalSync({ user: 'alice', folder, stateDir: join(dir, 'state'), blockstore, node: nodeHost.peerId.toString(), discoveryKey: discovery.publicKey, libp2p: nodeHost, store: storeHost.getMultiaddrs()[0], watch: false })
  const first = await sync.snapshot()
  await sync.replicate()
  const edited = Math.max(1, Math.floor(FILES / 100))
  let changed = 0
  for (let i = 0; i < edited; i++) {
    const k = Math.floor(i * FILES / edited)
    const data = content(`edit/${k}`, 8 * 1024)
    await writeFile(join(folder, `dir${Math.floor(k / PER_DIR)}`, `f${k % PER_DIR}.dat`), data)
    changed += data.byteLength
  }
  const second = await sync.snapshot()
  const r = await sync.replicate()
  // the blocks new in the second snapshot, by kind
  const old = new Set<string>()
  const walk = async (root: typeof first.root, into: Set<string>, kinds?: Record<string, [number, number]>): Promise<void> => {
    const stack = [root]
    while (stack.length > 0) {
      const cid = stack.pop()!
      if (into.has(cid.toString())) continue
      into.add(cid.toString())
      const bytes = await blockstore.get(cid)
      const fresh = kinds !== undefined && !old.has(cid.toString())
      if (cid.code === DAG_CBOR_CODEC) {
        const links = dirLinks(bytes)
        const kind = links.length > 0 && links.every(l => l.code === DAG_CBOR_CODEC) && cid !== root ? 'dir blocks linking only dirs (tops, root)' : 'dir blocks with chunks (pages, small dirs)'
        if (fresh) { kinds[kind] ??= [0, 0]; kinds[kind][0]++; kinds[kind][1] += bytes.byteLength }
        for (const l of links) stack.push(l)
      } else if (fresh) { kinds.chunks ??= [0, 0]; kinds.chunks[0]++; kinds.chunks[1] += bytes.byteLength }
    }
  }
  await walk(first.root, old)
  const kinds: Record<string, [number, number]> = {}
  await walk(second.root, new Set(), kinds)
  const record = (await blockstore.get(second.cid)).byteLength
  console.log(JSON.stringify({ files: FILES, edited, changed, wireBytes: r.wireBytes, ratio: +(r.wireBytes / changed).toFixed(4), blockBytes: r.bytesSent, framingAndWants: r.wireBytes - r.bytesSent - record, record, kinds }, null, 1))
  await store.stop(); await blockstore.stop(); await nodeHost.stop(); await storeHost.stop()
} finally {
  await rm(dir, { recursive: true, force: true })
}
