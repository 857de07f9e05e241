import './helpers.js'
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { createImageDevice } from '../src/index.js'
import { addVersion, BLOCK, concat, makeManifest, randomImage, startNode, type Node } from './helpers.js'

// Issue 13, item 4: reads on demand were not charged to the node's WAN budget.
describe('image device: reads on demand spend the receive budget', () => {
  const nodes: Node[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  it('asks the budget for every byte it reads from a peer, and waits for it', async () => {
    const blocks = randomImage(16, 0)
    const manifest = makeManifest('v1', blocks)
    const a = await startNode()
    const b = await startNode()
    nodes.push(a, b)
    const cid = await addVersion(a, manifest, blocks)
    await b.libp2p.dial(a.libp2p.getMultiaddrs()[0])
    const asked: Array<{ peer: string, bytes: number }> = []
    const device = createImageDevice({
      libp2p: b.libp2p,
      blockstore: b.blockstore,
      manifest,
      manifestCid: cid,
      fetchTimeoutMs: 10_000,
      receiveBudget: async (peer, bytes) => {
        asked.push({ peer, bytes })
        await new Promise(resolve => setTimeout(resolve, 50)) // a budget that makes the reader wait
      }
    })
    const started = Date.now()
    const got = await device.read(0, 8 * BLOCK)
    assert.deepEqual(Buffer.from(got), concat(blocks).subarray(0, 8 * BLOCK))
    const charged = asked.reduce((n, a) => n + a.bytes, 0)
    assert.ok(charged >= device.stats().fetchedBytes * 0.9 && charged <= device.stats().wireBytes, `charged ${charged} of ${device.stats().wireBytes} wire bytes`)
    assert.ok(asked.every(x => x.peer === a.libp2p.peerId.toString()))
    assert.ok(Date.now() - started >= 8 * 50, 'the read waited for the budget')
  })
})
