import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Blockstore } from '@cachecloud/blockstore'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { generateX25519KeyPair, type PersonalFolder } from '@cachecloud/personal'
import { createBackend, createDcStore, type BackendConfig, type DcStore } from '../src/index.js'
import { startNodeSync } from './node-sync.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const sha = (b: Uint8Array | string): string => createHash('sha256').update(b).digest('hex')

/**
 * A node replicates into a store whose blocks are on `blocks` (real libp2p on
 * loopback); discovery exports the exact files, check finds nothing wrong,
 * retention removes the blocks of what it removes from the backend.
 */
export function replicationOnBackend (name: string, blocks: () => BackendConfig, options: { skip?: string | false } = {}): void {
  describe(`replication into a store on ${name}`, { skip: options.skip ?? false }, () => {
    let dir: string
    const discovery = generateX25519KeyPair()
    let storeHost: CachePointLibp2p
    let nodeHost: CachePointLibp2p
    let store: DcStore
    let nodeBlocks: Blockstore
    let sync: PersonalFolder
    let folder: string
    let config: BackendConfig

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dcstore-backend-'))
      config = blocks()
      folder = join(dir, 'alice')
      await mkdir(join(folder, 'docs'), { recursive: true })
      storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
      nodeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
      ;({ blockstore: nodeBlocks, sync } = await startNodeSync({ dir, user: 'alice', folder, nodeHost, storeHost, discoveryKey: discovery.publicKey }))
      store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), blocks: config, libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'test' })
      await store.start()
      await store.enroll(nodeHost.peerId.toString(), ['alice'])
    })

    after(async () => {
      await store?.stop()
      await nodeBlocks?.stop()
      await nodeHost?.stop()
      await storeHost?.stop()
      await rm(dir, { recursive: true, force: true })
    })

    it('replicates; export gives back the exact files; check finds nothing wrong', async () => {
      const big = Buffer.alloc(3 * 1024 * 1024)
      for (let i = 0; i < big.length; i += 32) big.writeUInt32LE(i * 2654435761 >>> 0, i)
      await writeFile(join(folder, 'docs/big.bin'), big)
      await writeFile(join(folder, 'notes.txt'), 'quarterly numbers\n')
      await sync.snapshot()
      const r = await sync.replicate()
      assert.equal(r.replicated, 1)
      const out = join(dir, 'export')
      await store.discovery.export('alice', new Date(), out)
      assert.equal(sha(await readFile(join(out, 'docs/big.bin'))), sha(big))
      assert.equal(await readFile(join(out, 'notes.txt'), 'utf8'), 'quarterly numbers\n')
      const report = await store.check({ readData: true })
      assert.equal(report.ok, true, JSON.stringify(report.damage))
      assert.equal(report.snapshots, 1)
      assert.ok(report.readBlocks > 3, `${report.readBlocks} blocks read`)
      // the blocks are on the backend (a second process opening it sees them), not in the data directory
      const other = createBackend(config, join(dir, 'elsewhere'))
      await other.start()
      let n = 0
      for await (const _ of other.cids('alice')) n++
      await other.stop()
      assert.equal(n, report.readBlocks)
    })

    it('check reports a block the backend lost, and the snapshot it breaks', async () => {
      const other = createBackend(config, join(dir, 'elsewhere'))
      await other.start()
      let victim
      for await (const cid of other.cids('alice')) { if (cid.code === 0x55) { victim = cid; break } }
      await other.delete('alice', victim!)
      await other.stop()
      const report = await store.check()
      assert.equal(report.ok, false)
      assert.deepEqual(report.damage.map(d => [d.kind, d.cids]), [['block-missing', [victim!.toString()]]])
      assert.equal(report.affected.length, 1)
    })

    it('retention removes the old snapshot\'s blocks from the backend', async () => {
      const result = await store.retention(Date.now() + 1000, true)
      assert.equal(result.snapshots.length, 1)
      assert.ok(result.removedBlocks > 3)
      const other = createBackend(config, join(dir, 'elsewhere'))
      await other.start()
      let n = 0
      for await (const _ of other.cids('alice')) n++
      await other.stop()
      assert.equal(n, 0)
    })
  })
}
