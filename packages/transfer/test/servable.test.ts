import './helpers.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { cidOf, type CID } from '@cachecloud/core'
import { BLOCKS_PROTOCOL, decodeBlockResponse, encodeWant, MAX_FRAME_BYTES } from '../src/index.js'
import { FrameReader } from '@cachecloud/frame'
import { addVersion, startNode, type TestNode } from './helpers.js'

/** Asks `server` for `cid` over a fresh blocks stream, as any peer could. */
async function ask (client: TestNode, server: TestNode, cid: CID): Promise<Uint8Array | undefined> {
  const stream = await client.libp2p.dialProtocol(server.addr, BLOCKS_PROTOCOL)
  const reader = new FrameReader(stream, MAX_FRAME_BYTES)
  stream.send(encodeWant([cid]))
  const body = await reader.next()
  await stream.close()
  assert.ok(body !== undefined)
  return decodeBlockResponse(body, true).bytes
}

describe('the blocks protocol serves only blocks of catalogued versions', () => {
  it('answers not-found for a block the store holds outside any version (e.g. a personal folder\'s), and serves it once a version holds it', async () => {
    const [a, b] = [await startNode(), await startNode()]
    try {
      const loose = randomBytes(4096)
      await a.blockstore.put(cidOf(loose), loose)
      assert.equal(await ask(b, a, cidOf(loose)), undefined, 'not served: no catalogued version names it')
      await addVersion(a, { version: 'v1', blocks: [loose] })
      assert.deepEqual(Buffer.from(await ask(b, a, cidOf(loose)) ?? []), loose)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
