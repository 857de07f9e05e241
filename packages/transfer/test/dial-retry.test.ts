import './helpers.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Stream } from '@libp2p/interface'
import { BLOCKS_PROTOCOL, decodeWant, encodeBlockResponse, MAX_REQUEST_BYTES } from '../src/index.js'
import { FrameReader } from '@cachecloud/frame'
import { addVersion, countHeld, distinctBytes, randomBlocks, startNode, verifyAll, type TestNode } from './helpers.js'

/** The node's first `cut` blocks streams answer three blocks and half of a fourth, then close: a seed that went away mid-frame. */
async function cutFirstStreams (node: TestNode, cut: number): Promise<{ streams: number }> {
  const seen = { streams: 0 }
  await node.libp2p.unhandle(BLOCKS_PROTOCOL)
  await node.libp2p.handle(BLOCKS_PROTOCOL, async (stream: Stream) => {
    const n = seen.streams++
    let sent = 0
    for await (const body of new FrameReader(stream, MAX_REQUEST_BYTES)) {
      for (const cid of decodeWant(body)) {
        const frame = encodeBlockResponse(cid, await node.blockstore.get(cid))
        if (n < cut && sent === 3) {
          stream.send(frame.sublist(0, frame.byteLength >> 1))
          await stream.close()
          return
        }
        sent++
        if (!stream.send(frame)) await stream.onDrain()
      }
    }
    await stream.close()
  }, { force: true })
  return seen
}

describe('pulls survive a seed refusing connections for a moment', () => {
  it('four pullers starting together against a seed that accepts 2 connections per second per host all complete (refused dials retried with backoff)', async () => {
    const seed = await startNode({ network: { inbound: { perHostPerSecond: 2, maxPending: 10, maxConnections: 100 } } })
    const pullers = await Promise.all(Array.from({ length: 4 }, async () => await startNode()))
    try {
      const blocks = randomBlocks(24, 64 * 1024)
      await addVersion(seed, { version: 'v1', blocks })
      const results = await Promise.allSettled(pullers.map(async p => await p.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [seed.addr] })))
      const failed = results.filter(r => r.status === 'rejected').map(r => String((r as PromiseRejectedResult).reason))
      assert.deepEqual(failed, [])
      for (const p of pullers) {
        await verifyAll(p)
        assert.equal(await countHeld(p, blocks), distinctBytes(blocks).count)
        assert.equal((await p.catalog.find({ name: 'disk', version: 'v1' }))?.state, 'complete')
      }
    } finally {
      await Promise.all([seed.stop(), ...pullers.map(async p => { await p.stop() })])
    }
  })

  it('a block session cut short mid-frame is started again while it makes progress; the pull completes from its only peer', async () => {
    const seed = await startNode()
    const puller = await startNode()
    try {
      const blocks = randomBlocks(40, 64 * 1024)
      await addVersion(seed, { version: 'v1', blocks })
      const seen = await cutFirstStreams(seed, 2)
      const result = await puller.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [seed.addr] })
      assert.equal(result.fetchedBlocks, distinctBytes(blocks).count)
      assert.equal(seen.streams, 3, 'two sessions cut, the third completes')
      await verifyAll(puller)
    } finally {
      await Promise.all([seed.stop(), puller.stop()])
    }
  })
})
