import './helpers.js'
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { addVersion, BLOCK, connectAll, holdsAll, makeManifest, randomImage, startSwarmNode, type SwarmNode } from './helpers.js'

describe('interrupted swarm pull', () => {
  const nodes: SwarmNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  it('resumes from whichever peer is reachable, fetching nothing twice', async () => {
    const blocks = randomImage(64)
    const manifest = makeManifest('v1', blocks)
    const dc = await startSwarmNode({ site: 'dc' })
    const laptop = await startSwarmNode({ site: 'b', wan: { maxRate: 2 * 1024 * 1024 } })
    nodes.push(dc, laptop)
    await addVersion(dc, manifest, blocks)
    await connectAll([dc, laptop])
    const controller = new AbortController()
    let fetched = 0
    await assert.rejects(laptop.swarm.pull({ name: 'disk', version: 'v1' }, {
      signal: controller.signal,
      onProgress: (e) => { fetched = Number(e.detail?.blocksDone); if (fetched >= 20) controller.abort(new Error('link cut')) }
    }))
    assert.ok(fetched >= 20 && fetched < blocks.length, `fetched ${fetched} before the cut`)
    // back online, the data center is gone; a branch peer that holds the version serves the rest
    await dc.libp2p.hangUp(laptop.libp2p.peerId)
    await dc.stop()
    nodes.splice(nodes.indexOf(dc), 1)
    const branchPeer = await startSwarmNode({ site: 'b' })
    nodes.push(branchPeer)
    await addVersion(branchPeer, manifest, blocks)
    await connectAll([laptop, branchPeer])
    const result = await laptop.swarm.pull({ name: 'disk', version: 'v1' })
    assert.ok(await holdsAll(laptop, blocks))
    // the resumed pull continues the interrupted one's counters: together they fetched each block once
    assert.equal(result.blocksTotal, blocks.length)
    assert.equal(result.blocksDone, blocks.length)
    const fromBranch = result.peers.find(p => p.peer === branchPeer.libp2p.peerId.toString())?.bytes ?? 0
    assert.ok(fromBranch <= (blocks.length - 20) * BLOCK, `second pull fetched ${fromBranch / BLOCK} blocks`)
    assert.equal(result.peers.reduce((sum, p) => sum + p.bytes, 0), blocks.length * BLOCK, 'every block fetched exactly once over both pulls')
  })
})
