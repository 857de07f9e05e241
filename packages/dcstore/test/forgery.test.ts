import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { parseCid } from '@cachecloud/core'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import {
  createPersonalFolder, decodeRecord, deriveSigningKey, generateX25519KeyPair, replicateSnapshot, unwrapUserKey, type PersonalFolder
} from '@cachecloud/personal'
import { Crafter } from '@cachecloud/personal/testing'
import { createDcStore, type DcStore } from '../src/index.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

interface Machine { host: CachePointLibp2p, blocks: Blockstore, sync: PersonalFolder, folder: string }

// Whoever holds the discovery key opens every user key: here the store's
// operator, who also enrolls a peer of their own for alice, seals a tree with
// alice's key and replicates it. Alice's machines merge and restore only what
// a machine holding her key pair signed.
describe('a snapshot forged with the discovery key is neither merged nor restored (real libp2p on loopback)', () => {
  let dir: string
  const discovery = generateX25519KeyPair()
  const alicePair = generateX25519KeyPair()
  let storeHost: CachePointLibp2p
  let rogue: CachePointLibp2p
  let rogueBlocks: Blockstore
  let store: DcStore
  const machines: Machine[] = []
  let legit: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-forgery-'))
    storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'test' })
    await store.start()
    for (const name of ['laptop', 'desktop']) {
      const host = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
      await store.enroll(host.peerId.toString(), ['alice'])
      const blocks = createBlockstore({ path: join(dir, name, 'blocks') })
      await blocks.start()
      const folder = join(dir, name, 'Documents')
      await mkdir(folder, { recursive: true })
      const sync = createPersonalFolder({
        user: 'alice', folder, stateDir: join(dir, name, 'state'), blockstore: blocks, node: host.peerId.toString(),
        discoveryKey: discovery.publicKey, userPrivateKey: alicePair.privateKey, libp2p: host, store: storeHost.getMultiaddrs()[0], watch: false
      })
      machines.push({ host, blocks, sync, folder })
    }
    rogue = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    await store.enroll(rogue.peerId.toString(), ['alice'])
    rogueBlocks = createBlockstore({ path: join(dir, 'rogue-blocks') })
    await rogueBlocks.start()
  })

  after(async () => {
    await store.stop()
    for (const m of machines) { await m.sync.stop(); await m.blocks.stop(); await m.host.stop() }
    await rogueBlocks.stop()
    await rogue.stop()
    await storeHost.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('the laptop signs its snapshots; the discovery key holder forges two (unsigned, and signed with a key of its own)', async () => {
    const [laptop] = machines
    await writeFile(join(laptop.folder, 'real.txt'), 'from the laptop\n')
    await laptop.sync.snapshot()
    await laptop.sync.replicate()
    const timeline = await store.discovery.timeline('alice')
    legit = timeline[0].snapshot.cid
    const record = decodeRecord(await laptop.blocks.get(parseCid(legit)))
    assert.ok(record.sig !== undefined && record.sig.byteLength === 64)
    // the forger: alice's user key, opened with the discovery key
    const userKey = unwrapUserKey(record.keys.discovery, discovery.privateKey)
    for (const sign of [undefined, deriveSigningKey(generateX25519KeyPair().privateKey, 'alice')]) {
      const c = new Crafter(userKey)
      const root = c.dirBlock([c.file('real.txt', 'forged content\n'), c.file('evil.txt', 'planted\n')])
      const forged = c.record({ user: 'alice', node: rogue.peerId.toString(), discoveryPublicKey: discovery.publicKey, root, files: 2, ...(sign === undefined ? {} : { sign }) })
      await c.storeInto(rogueBlocks)
      await replicateSnapshot({ libp2p: rogue, store: storeHost.getMultiaddrs()[0], blockstore: rogueBlocks, record: { ...forged, root }, timeoutMs: 30_000 })
      await new Promise(resolve => setTimeout(resolve, 5))
    }
    assert.equal((await store.discovery.timeline('alice')).length, 3, 'the store took them (it cannot tell)')
  })

  it('the desktop merges the laptop\'s snapshot and not the forged ones', async () => {
    const desktop = machines[1]
    const pulled = await desktop.sync.mergeRemotes()
    // the store answers each node's latest: the rogue's second forgery (signed with a key of its own)
    const forged = (await store.discovery.timeline('alice')).at(-1)!.snapshot.cid
    assert.deepEqual(pulled.unverified, [forged], JSON.stringify(pulled))
    assert.equal(pulled.merged, 1)
    assert.deepEqual((await readdir(desktop.folder)).sort(), ['real.txt'])
    assert.equal(await readFile(join(desktop.folder, 'real.txt'), 'utf8'), 'from the laptop\n')
  })

  it('a restore from the store takes the latest signed snapshot, passing over the later forged ones', async () => {
    const desktop = machines[1]
    const out = join(dir, 'restored')
    const r = await desktop.sync.restore('', { fromStore: true, to: out })
    const signed = new Set([legit, ...(await desktop.sync.log()).map(s => s.cid.toString())])
    assert.ok(signed.has(r.snapshot.cid.toString()), `restored ${r.snapshot.cid.toString()}`)
    assert.deepEqual((await readdir(out)).sort(), ['real.txt'])
    assert.equal(await readFile(join(out, 'real.txt'), 'utf8'), 'from the laptop\n')
  })
})
