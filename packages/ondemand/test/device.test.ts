import './helpers.js'
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { BlockUnavailableError, createImageDevice } from '../src/index.js'
import { addVersion, BLOCK, concat, makeManifest, randomImage, startNode, type Node } from './helpers.js'

describe('image device: reads fetch missing blocks from peers on demand', () => {
  const nodes: Node[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })
  const start = async (): Promise<Node> => { const n = await startNode(); nodes.push(n); return n }

  it('reads from a node holding nothing are bit-identical, fetch only the blocks read (holes: no network), then stay local', async () => {
    const blocks = randomImage(64, 4) // 4 MiB, every 4th block a hole
    const manifest = makeManifest('v1', blocks)
    const a = await start()
    const b = await start()
    const cid = await addVersion(a, manifest, blocks)
    await b.libp2p.dial(a.libp2p.getMultiaddrs()[0])
    const device = createImageDevice({ libp2p: b.libp2p, blockstore: b.blockstore, manifest, manifestCid: cid, fetchTimeoutMs: 5000 })
    const image = concat(blocks)
    // 1 MiB at an odd offset: blocks 2..18, four of them holes
    const offset = 2 * BLOCK + 1000
    const got = await device.read(offset, 1024 * 1024, undefined)
    assert.deepEqual(Buffer.from(got), image.subarray(offset, offset + 1024 * 1024))
    const s = device.stats()
    const touched = [...Array(18 - 2 + 1).keys()].map(i => i + 2)
    const data = touched.filter(i => manifest.blocks[i] !== null).length
    assert.equal(s.fetchedBlocks, data)
    assert.equal(s.fetchedBytes, data * BLOCK)
    assert.ok(s.wireBytes >= s.fetchedBytes && s.wireBytes < s.fetchedBytes * 1.01, `wire bytes ${s.wireBytes}`)
    assert.equal(s.holeBlocks, touched.length - data)
    assert.equal(s.onDemandReads, 1)
    // the whole image, in 256 KiB reads
    for (let o = 0; o < image.byteLength; o += 4 * BLOCK) assert.deepEqual(Buffer.from(await device.read(o, 4 * BLOCK)), image.subarray(o, o + 4 * BLOCK))
    const all = device.stats()
    assert.equal(all.fetchedBlocks, manifest.blocks.filter(x => x !== null).length, 'each block fetched once')
    await device.read(0, image.byteLength)
    assert.equal(device.stats().fetchedBlocks, all.fetchedBlocks, 'every block local now: no network')
  })

  it('concurrent reads of the same missing blocks fetch them once', async () => {
    const blocks = randomImage(32)
    const manifest = makeManifest('v5', blocks)
    const a = await start()
    const b = await start()
    const cid = await addVersion(a, manifest, blocks)
    await b.libp2p.dial(a.libp2p.getMultiaddrs()[0])
    const device = createImageDevice({ libp2p: b.libp2p, blockstore: b.blockstore, manifest, manifestCid: cid })
    const reads = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(async i => await device.read(i * 1000, 8 * BLOCK)))
    for (const [i, r] of reads.entries()) assert.deepEqual(Buffer.from(r), concat(blocks).subarray(i * 1000, i * 1000 + 8 * BLOCK))
    const s = device.stats()
    assert.equal(s.fetchedBlocks, 9, 'blocks 0-8, each once')
    assert.equal(s.reads, 8)
  })

  it('a read the background pull also wants is fetched once: the pull skips blocks read on demand', async () => {
    const blocks = randomImage(160) // 10 MiB
    const manifest = makeManifest('v2', blocks)
    const a = await start()
    // the background pull is held to 2 MiB/s by the WAN budget; reads on demand are not
    const b = await startNode({ wanMaxRate: 2 * 1024 * 1024 })
    nodes.push(b)
    const cid = await addVersion(a, manifest, blocks)
    await b.libp2p.dial(a.libp2p.getMultiaddrs()[0])
    const device = createImageDevice({
      libp2p: b.libp2p,
      blockstore: b.blockstore,
      manifest,
      manifestCid: cid,
      onBlockStored: block => { b.swarm.blockStored(cid, block) }
    })
    const pull = b.swarm.pull({ name: 'disk', version: 'v2' })
    const deadline = Date.now() + 10_000
    while (b.swarm.status()[0]?.state !== 'pulling' && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
    assert.equal(b.swarm.status()[0]?.blocksTotal, blocks.length)
    const t0 = performance.now()
    const tail = device.read(120 * BLOCK, 40 * BLOCK)
    assert.deepEqual(Buffer.from(await tail), concat(blocks.slice(120)))
    const readMs = performance.now() - t0
    const result = await pull
    assert.ok(readMs < 1000, `2.5 MiB read on demand took ${readMs} ms (the pull needs 5 s for the whole image)`)
    const fetched = device.stats().fetchedBytes
    const pulled = result.lanBytes + result.wanBytes
    assert.ok(fetched > 0)
    assert.equal(result.blocksDone, blocks.length, 'blocks read on demand count as done')
    assert.ok(fetched + pulled <= blocks.length * BLOCK * 1.05, `on demand ${fetched} + pulled ${pulled} bytes for a ${blocks.length * BLOCK}-byte image`)
  })

  it('a peer dying mid-read: the read completes from another peer', async () => {
    const blocks = randomImage(256) // 16 MiB
    const manifest = makeManifest('v3', blocks)
    const a = await start()
    const c = await start()
    const b = await start()
    const cid = await addVersion(a, manifest, blocks)
    await addVersion(c, manifest, blocks)
    await b.libp2p.dial(a.libp2p.getMultiaddrs()[0])
    await b.libp2p.dial(c.libp2p.getMultiaddrs()[0])
    let killed: Promise<void> | undefined
    // after a few blocks have arrived, the holder sending them stops (its connections close mid-stream)
    const byPeer = new Map<string, number>()
    let stored = 0
    const device = createImageDevice({
      libp2p: b.libp2p, blockstore: b.blockstore, manifest, manifestCid: cid, fetchTimeoutMs: 15_000,
      onBlockStored: (_block, peer) => {
        byPeer.set(peer, (byPeer.get(peer) ?? 0) + 1)
        if (++stored === 8) killed = (peer === a.libp2p.peerId.toString() ? a : c).stop()
      }
    })
    const got = await device.read(0, blocks.length * BLOCK)
    await killed
    assert.ok(killed !== undefined, 'a peer was stopped during the read')
    assert.deepEqual(Buffer.from(got), concat(blocks))
    assert.equal(device.stats().failedReads, 0)
    assert.equal(byPeer.size, 2, 'blocks came from both peers')
    assert.equal([...byPeer.values()].reduce((x, y) => x + y), blocks.length)
  })

  it('with no peer holding the block, a read fails with BlockUnavailableError within the timeout, not a hang', async () => {
    const blocks = randomImage(8)
    const manifest = makeManifest('v4', blocks)
    const b = await start()
    const { encodeManifest } = await import('@cachecloud/manifest')
    const device = createImageDevice({ libp2p: b.libp2p, blockstore: b.blockstore, manifest, manifestCid: encodeManifest(manifest).cid, fetchTimeoutMs: 1500 })
    const t0 = Date.now()
    await assert.rejects(device.read(0, BLOCK), (err: Error) => err instanceof BlockUnavailableError && /not received within 1500 ms/.test(err.message))
    const ms = Date.now() - t0
    assert.ok(ms >= 1400 && ms < 3000, `failed after ${ms} ms`)
    assert.equal(device.stats().failedReads, 1)
  })
})
