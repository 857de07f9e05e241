import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import {
  applyDirDelta, createPersonalFolder, decodeDirParts, generateX25519KeyPair, ProtocolError, ReplicationRefusedError, replicateSnapshot,
  type DirDelta, type Entry
} from '@cachecloud/personal'
import { Crafter } from '@cachecloud/personal/testing'
import { createDcStore, type DcStore } from '../src/index.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const MAX_TREE_ENTRIES = 20_000

// What an enrolled node can make the store do with little: expand a small
// delta without bound, or walk a tree that names one child many times.
describe('an enrolled node cannot exhaust the store', () => {
  describe('directory deltas are bounded before any copy', () => {
    const c = new Crafter()
    const entries: Entry[] = Array.from({ length: 64 }, (_, i) => c.file(`f${String(i).padStart(2, '0')}`, `content ${i}`))
    const base = c.blocks.get(c.dirBlock(entries.slice(0, 32)).toString())!.bytes
    const parts = decodeDirParts(base)

    it('a delta of many copies of the entry list is refused (a block holds at most 64 entries)', () => {
      const delta: DirDelta = { base: c.dirBlock([]), l: [], e: Array.from({ length: 5000 }, () => [0, 32] as [number, number]), s: parts.s }
      const t0 = performance.now()
      assert.throws(() => applyDirDelta(base, delta), (err: Error) => err instanceof ProtocolError && /5000 ops/.test(err.message))
      assert.ok(performance.now() - t0 < 200, 'refused before expanding')
    })

    it('a delta of many copies of the link list is refused once the block would pass 16 MiB', () => {
      const delta: DirDelta = { base: c.dirBlock([]), l: Array.from({ length: 20_000 }, () => [0, parts.l.length] as [number, number]), e: [], s: parts.s }
      // 20,000 x 32 links x ~41 bytes = 26 MB: over the format's largest block
      assert.throws(() => applyDirDelta(base, delta), (err: Error) => err instanceof ProtocolError && /exceed/.test(err.message))
      // within the bounds it still rebuilds
      const small: DirDelta = { base: c.dirBlock([]), l: [[0, parts.l.length]], e: [[0, parts.e.length]], s: parts.s }
      assert.deepEqual(applyDirDelta(base, small), base)
    })
  })

  describe('the ingest walk (real libp2p on loopback)', () => {
    let dir: string
    const discovery = generateX25519KeyPair()
    let storeHost: CachePointLibp2p
    let nodeHost: CachePointLibp2p
    let store: DcStore
    let nodeBlocks: Blockstore

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dcstore-exhaust-'))
      storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
      nodeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
      store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'test', maxTreeEntries: MAX_TREE_ENTRIES })
      await store.start()
      await store.enroll(nodeHost.peerId.toString(), ['alice'])
      nodeBlocks = createBlockstore({ path: join(dir, 'node-blocks') })
      await nodeBlocks.start()
    })

    after(async () => {
      await store.stop()
      await nodeBlocks.stop()
      await nodeHost.stop()
      await storeHost.stop()
      await rm(dir, { recursive: true, force: true })
    })

    /** A tree of `depth` directory blocks, each naming the next twice: 2^depth paths to one file. */
    const doubling = async (depth: number, files: number): Promise<{ cid: import('@cachecloud/core').CID, bytes: Uint8Array, root: import('@cachecloud/core').CID }> => {
      const c = new Crafter()
      let level: Entry[] = [c.file('leaf.txt', 'x')]
      for (let i = 0; i < depth; i++) { const d = c.dirBlock(level); level = [{ kind: 'dir', name: 'a', mode: 0o755, mtimeMs: 0, dir: d }, { kind: 'dir', name: 'b', mode: 0o755, mtimeMs: 0, dir: d }] }
      const root = c.dirBlock(level)
      const rec = c.record({ user: 'alice', node: nodeHost.peerId.toString(), discoveryPublicKey: discovery.publicKey, root, files })
      await c.storeInto(nodeBlocks)
      return { cid: rec.cid, bytes: rec.bytes, root }
    }
    const offer = async (record: { cid: import('@cachecloud/core').CID, bytes: Uint8Array, root: import('@cachecloud/core').CID }): ReturnType<typeof replicateSnapshot> =>
      await replicateSnapshot({ libp2p: nodeHost, store: storeHost.getMultiaddrs()[0], blockstore: nodeBlocks, record, timeoutMs: 30_000 })

    it('a tree of 25 blocks naming one child twice each is refused: more files than its record states', async () => {
      const forged = await doubling(24, 1)
      const t0 = performance.now()
      await assert.rejects(offer(forged), (err: Error) => err instanceof ReplicationRefusedError && err.reason === 'invalid' && /more files than the 1/.test(err.message))
      assert.ok(performance.now() - t0 < 10_000, `took ${performance.now() - t0} ms`)
      // offered again (the node retries every minute): refused at once
      await assert.rejects(offer(forged), (err: Error) => err instanceof ReplicationRefusedError && /refused before/.test(err.message))
    })

    it('a record stating millions of files is stopped at the hard maximum of entries', async () => {
      const forged = await doubling(24, 2 ** 24)
      const t0 = performance.now()
      await assert.rejects(offer(forged), (err: Error) => err instanceof ReplicationRefusedError && err.reason === 'invalid' && new RegExp(`more than ${MAX_TREE_ENTRIES} entries`).test(err.message))
      assert.ok(performance.now() - t0 < 10_000, `took ${performance.now() - t0} ms`)
    })

    it('a tree naming a child twice (a symlink and a directory `docs`) is refused', async () => {
      const c = new Crafter()
      const root = c.dirBlock([c.link('docs', '/etc'), c.dir('docs', [c.file('passwd', 'x')])])
      const rec = c.record({ user: 'alice', node: nodeHost.peerId.toString(), discoveryPublicKey: discovery.publicKey, root, files: 1 })
      await c.storeInto(nodeBlocks)
      await assert.rejects(offer({ ...rec, root }), (err: Error) => err instanceof ReplicationRefusedError && /twice/.test(err.message))
    })

    it('the store keeps serving: an honest snapshot with a repeated subdirectory commits with every path indexed', async () => {
      const folder = join(dir, 'alice')
      for (const d of ['copy1', 'copy2']) { await mkdir(join(folder, d), { recursive: true }); await writeFile(join(folder, d, 'same.txt'), 'identical\n') }
      const sync = createPersonalFolder({
        user: 'alice', folder, stateDir: join(dir, 'state'), blockstore: nodeBlocks, node: nodeHost.peerId.toString(),
        discoveryKey: discovery.publicKey, libp2p: nodeHost, store: storeHost.getMultiaddrs()[0], watch: false
      })
      const s = await sync.snapshot()
      assert.equal((await sync.replicate()).replicated, 1)
      const tree = await store.discovery.treeAt('alice', s.time)
      assert.deepEqual(tree.files.map(f => f.path).sort(), ['copy1/same.txt', 'copy2/same.txt'])
      await sync.stop()
    })
  })
})
