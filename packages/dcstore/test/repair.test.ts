import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Blockstore } from '@cachecloud/blockstore'
import { CID, DAG_CBOR_CODEC } from '@cachecloud/core'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import {
  decodeMessage, dirLinks, encodeMessage, FrameReader, generateX25519KeyPair, MAX_FRAME_BYTES, PERSONAL_PROTOCOL, type PersonalFolder, type SnapshotResult
} from '@cachecloud/personal'
import { createDcStore, STORE_FILES, type DcStore, type PendingRepair } from '../src/index.js'
import { startNodeSync } from './node-sync.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

/** Every CID below a root directory block, read from the node's store. */
async function reachable (blockstore: Blockstore, root: CID): Promise<Set<string>> {
  const out = new Set([root.toString()])
  const stack = [root]
  while (stack.length > 0) {
    for (const link of dirLinks(await blockstore.get(stack.pop()!))) {
      if (out.has(link.toString())) continue
      out.add(link.toString())
      if (link.code === DAG_CBOR_CODEC) stack.push(link)
    }
  }
  return out
}

/**
 * A node of the previous version: offers over 1.1.0 and serves only the
 * offered snapshot's blocks (it fails on any other want, as that client did).
 */
async function replicateAsPreviousVersion (host: CachePointLibp2p, store: CachePointLibp2p, blockstore: Blockstore, snap: SnapshotResult): Promise<string> {
  const allowed = await reachable(blockstore, snap.root)
  const stream = await (await host.dial(store.getMultiaddrs()[0])).newStream(PERSONAL_PROTOCOL)
  const reader = new FrameReader(stream, MAX_FRAME_BYTES)
  stream.send(encodeMessage({ t: 'offer', record: await blockstore.get(snap.cid) }))
  while (true) {
    const m = decodeMessage((await reader.next())!)
    if (m.t === 'done') { await stream.close(); return m.status }
    if (m.t !== 'want') throw new Error(`unexpected ${m.t}`)
    const blocks: Uint8Array[] = []
    for (const cid of m.cids) {
      if (!allowed.has(cid.toString())) throw new Error(`store wants ${cid.toString()}, which is not in the snapshot`)
      blocks.push(await blockstore.get(cid))
    }
    stream.send(encodeMessage({ t: 'blocks', blocks, last: true }))
  }
}

describe('repair, then replication 1.2.0 re-sends what the store lost (real libp2p on loopback)', () => {
  let dir: string
  const discovery = generateX25519KeyPair()
  let storeHost: CachePointLibp2p
  let nodeHost: CachePointLibp2p
  let blockstore: Blockstore
  let sync: PersonalFolder
  let folder: string
  let serving: DcStore | undefined
  const storePath = (): string => join(dir, 'store')
  const serve = async (): Promise<void> => {
    serving = createDcStore({ auditKey: TEST_AUDIT_KEY, path: storePath(), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'test' })
    await serving.start()
  }
  const stopServing = async (): Promise<void> => { await serving?.stop(); serving = undefined }
  const offline = async <T>(fn: (s: DcStore) => Promise<T>): Promise<T> => {
    const s = createDcStore({ auditKey: TEST_AUDIT_KEY, path: storePath(), create: false, discoveryPrivateKey: discovery.privateKey })
    await s.start()
    try { return await fn(s) } finally { await s.stop() }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-repair-'))
    folder = join(dir, 'alice')
    await mkdir(folder, { recursive: true })
    storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    nodeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    ;({ blockstore, sync } = await startNodeSync({ dir, user: 'alice', folder, nodeHost, storeHost, discoveryKey: discovery.publicKey }))
  })

  after(async () => {
    await stopServing()
    await blockstore.stop()
    await nodeHost.stop()
    await storeHost.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('a previous-version node still replicates (and re-sends what its new snapshot shares); a 1.2.0 node re-sends the rest, or says what it no longer has', async () => {
    await serve()
    await serving!.enroll(nodeHost.peerId.toString(), ['alice'])
    await writeFile(join(folder, 'a.txt'), 'first version of a\n'.repeat(3000))
    await writeFile(join(folder, 'kept.txt'), 'kept in every snapshot\n'.repeat(3000))
    const s1 = await sync.snapshot()
    await sync.replicate()
    await writeFile(join(folder, 'a.txt'), 'second version of a\n'.repeat(3000))
    await writeFile(join(folder, 'b.txt'), 'b arrives in the second\n'.repeat(3000))
    const s2 = await sync.snapshot()
    await sync.replicate()
    await stopServing()

    // every block of alice lost: her pack deleted
    const packs = join(storePath(), STORE_FILES.blocks, 'alice', 'packs')
    for (const p of await readdir(packs)) await unlink(join(packs, p))
    const repaired = await offline(async s => await s.repair())
    assert.equal(repaired.ok, false)
    assert.deepEqual(repaired.pending.map(p => p.snapshot).sort(), [s1.cid.toString(), s2.cid.toString()].sort())
    assert.ok(repaired.pending.every(p => p.node === nodeHost.peerId.toString() && p.user === 'alice' && p.unavailable === 0))

    // the previous version offers a third snapshot over 1.1.0: committed, its blocks (shared ones too) sent again; nothing else asked of it
    await writeFile(join(folder, 'c.txt'), 'c\n')
    const s3 = await sync.snapshot()
    await serve()
    assert.equal(await replicateAsPreviousVersion(nodeHost, storeHost, blockstore, s3), 'committed')
    await stopServing()
    let report = await offline(async s => await s.check())
    assert.ok(!report.affected.some(a => a.snapshot === s3.cid.toString()), 'the new snapshot is whole')
    assert.deepEqual(report.affected.map(a => a.snapshot).sort(), [s1.cid.toString(), s2.cid.toString()].sort())
    assert.ok(report.affected.every(a => a.waiting !== undefined))
    assert.deepEqual(report.damage.map(d => [d.kind, d.user, d.node]), [['block-missing', 'alice', undefined], ['awaiting-replication', 'alice', nodeHost.peerId.toString()]])

    // the node lost a block only the first snapshot had (the first a.txt)
    const later = new Set([...await reachable(blockstore, s2.root), ...await reachable(blockstore, s3.root)])
    const gone = [...await reachable(blockstore, s1.root)].filter(c => !later.has(c)).map(c => CID.parse(c)).find(c => c.code !== DAG_CBOR_CODEC)!
    assert.ok(gone !== undefined)
    await blockstore.delete(gone)
    await blockstore.sync()

    // this version's next replication (s3 is pending for it): the store wants what it lacks of s1 and s2
    await serve()
    const sent = await sync.replicate()
    assert.equal(sent.replicated, 1)
    await stopServing()
    report = await offline(async s => await s.check({ readData: true }))
    assert.deepEqual(report.affected.map(a => [a.snapshot, a.badBlocks, a.waiting?.unavailable]), [[s1.cid.toString(), 1, 1]], 'only the block the node lost is missing')
    const waiting = report.damage.find(d => d.kind === 'awaiting-replication')
    assert.match(waiting!.message, /the node answered that it no longer has blocks of 1 of them/)
    const pending = JSON.parse(await readFile(join(storePath(), STORE_FILES.repairs), 'utf8')) as { snapshots: PendingRepair[] }
    assert.deepEqual(pending.snapshots.map(p => [p.snapshot, p.unavailable]), [[s1.cid.toString(), 1]])
  })

  it('a node with nothing new offers its latest snapshot again (DEFAULT_REOFFER_INTERVAL_MS; here 0), and the store takes back what it lost', async () => {
    const bobFolder = join(dir, 'bob')
    await mkdir(bobFolder, { recursive: true })
    const { blockstore: bobBlocks, sync: bob } = await startNodeSync({
      dir, prefix: 'bob', user: 'bob', folder: bobFolder, nodeHost, storeHost, discoveryKey: discovery.publicKey, options: { reofferIntervalMs: 0 }
    })
    try {
      await serve()
      await serving!.enroll(nodeHost.peerId.toString(), ['alice', 'bob'])
      await writeFile(join(bobFolder, 'notes.txt'), 'bob never changes this file again\n'.repeat(4000))
      const only = await bob.snapshot()
      assert.equal((await bob.replicate()).replicated, 1)
      await stopServing()
      const packs = join(storePath(), STORE_FILES.blocks, 'bob', 'packs')
      for (const p of await readdir(packs)) await unlink(join(packs, p))
      const repaired = await offline(async s => await s.repair())
      assert.ok(repaired.pending.some(p => p.snapshot === only.cid.toString() && p.user === 'bob'))

      // the folder does not change: no new snapshot, yet the next replication offers the latest again and the store asks for what it lacks
      assert.equal((await bob.snapshot()).created, false)
      await serve()
      const again = await bob.replicate()
      await stopServing()
      assert.equal(again.replicated, 0)
      assert.ok(again.wireBytes > 0, 'the latest snapshot was offered again')
      const report = await offline(async s => await s.check({ readData: true }))
      assert.ok(!report.affected.some(a => a.user === 'bob'), `bob is whole again: ${JSON.stringify(report.affected)}`)
    } finally {
      await bobBlocks.stop()
    }
  })
})
