import './helpers.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { BLOCKS_PROTOCOL, decodeWant, encodeBlockResponse, MAX_REQUEST_BYTES } from '@cachecloud/transfer'
import { FrameReader } from '@cachecloud/frame'
import { addVersion, BLOCK, connectAll, holdsAll, makeManifest, randomImage, startSwarmNode, type SwarmNode } from './helpers.js'

/** Makes `node` answer every wanted block with random bytes of the right length. */
async function serveGarbage (node: SwarmNode): Promise<void> {
  await node.libp2p.unhandle(BLOCKS_PROTOCOL)
  await node.libp2p.handle(BLOCKS_PROTOCOL, async (stream) => {
    try {
      for await (const body of new FrameReader(stream, MAX_REQUEST_BYTES)) {
        for (const cid of decodeWant(body)) stream.send(encodeBlockResponse(cid, randomBytes(BLOCK)))
      }
      await stream.close()
    } catch (err) { stream.abort(err as Error) }
  })
}

describe('lying peers', () => {
  const nodes: SwarmNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  for (const lie of ['advertises blocks it lacks', 'serves wrong bytes'] as const) {
    it(`a same-site peer that ${lie} costs a bounded delay, corrupts nothing, is logged and deprioritized`, async () => {
      const blocks = randomImage(48)
      const manifest = makeManifest('v1', blocks)
      const dc = await startSwarmNode({ site: 'dc' })
      const liar = await startSwarmNode({ site: 'b' })
      const puller = await startSwarmNode({ site: 'b' })
      nodes.push(dc, liar, puller)
      await addVersion(dc, manifest, blocks)
      if (lie === 'advertises blocks it lacks') {
        await liar.catalog.add(manifest, 'complete') // claims every block, holds none
      } else {
        await addVersion(liar, manifest, blocks)
        await serveGarbage(liar)
      }
      await connectAll([dc, liar, puller])
      const started = Date.now()
      const result = await puller.swarm.pull({ name: 'disk', version: 'v1' }, { idleTimeoutMs: 15_000 })
      const seconds = (Date.now() - started) / 1000
      assert.ok(seconds < 10, `took ${seconds} s`)
      assert.ok(await holdsAll(puller, blocks), 'every block stored is the right one')
      assert.equal(result.peers.find(p => p.peer === liar.libp2p.peerId.toString())?.bytes ?? 0, 0, 'nothing stored came from the liar')
      assert.ok(puller.lines.some(l => l.includes('deprioritized') && l.includes(liar.libp2p.peerId.toString())), 'the liar is logged and deprioritized')
    })
  }
})
