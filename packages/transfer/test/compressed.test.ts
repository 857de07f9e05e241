import './helpers.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { CODEC_RAW, CODEC_ZSTD } from '@cachecloud/codec'
import { cidOf } from '@cachecloud/core'
import { BLOCKS_PROTOCOL_V1 } from '../src/index.js'
import { addVersion, distinctBytes, startNode, verifyAll, type TestNode } from './helpers.js'

const BLOCK = 64 * 1024

/** Text-like blocks: compressible about 3x, like OS files. */
function textBlocks (count: number, seed: number): Uint8Array[] {
  const words = ['kernel', 'module', 'libc', 'systemd', 'package', 'config', 'locale', 'python3', 'share', 'doc']
  return Array.from({ length: count }, (_v, b) => {
    let x = seed * 7919 + b
    const parts: string[] = []
    let n = 0
    while (n < BLOCK) {
      x = (x * 1103515245 + 12345) & 0x7fffffff
      const w = `${words[x % words.length] as string}/${(x >> 8) % 4096} `
      parts.push(w)
      n += w.length
    }
    return new TextEncoder().encode(parts.join('').slice(0, BLOCK))
  })
}

async function pair (
  server: Partial<Parameters<typeof startNode>[0]> = {},
  client: Partial<Parameters<typeof startNode>[0]> = {}
): Promise<[TestNode, TestNode]> {
  return [await startNode(server), await startNode(client)]
}

describe('compressed block exchange (blocks/1.1.0)', () => {
  it('compressible blocks cross the wire compressed, are stored as received, and verify', async () => {
    const [a, b] = await pair()
    try {
      const blocks = textBlocks(40, 1)
      await addVersion(a, { version: 'v1', blocks })
      const result = await b.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [a.addr] })
      const raw = distinctBytes(blocks)
      assert.equal(result.fetchedBytes, raw.bytes)
      assert.ok(result.wireBytes < raw.bytes / 2, `wire ${result.wireBytes} for ${raw.bytes} raw bytes`)
      assert.equal(await verifyAll(b), raw.count + 1)
      const stats = await b.blockstore.stats()
      assert.ok(stats.storedBytes < raw.bytes / 2, 'kept compressed at rest')
      for (const block of blocks) {
        const [mine, theirs] = await Promise.all([b.blockstore.getEncoded(cidOf(block)), a.blockstore.getEncoded(cidOf(block))])
        assert.equal(mine.codec, CODEC_ZSTD)
        assert.deepEqual(Buffer.from(mine.bytes), Buffer.from(theirs.bytes), 'the sender\'s frame, not recompressed')
      }
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('random blocks travel raw, within 1% of their bytes', async () => {
    const [a, b] = await pair()
    try {
      const blocks = Array.from({ length: 40 }, () => randomBytes(BLOCK))
      await addVersion(a, { version: 'v1', blocks })
      const result = await b.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [a.addr] })
      const raw = distinctBytes(blocks)
      assert.ok(result.wireBytes >= raw.bytes && result.wireBytes < raw.bytes * 1.01, `wire ${result.wireBytes} for ${raw.bytes}`)
      assert.equal((await b.blockstore.getEncoded(cidOf(blocks[0] as Uint8Array))).codec, CODEC_RAW)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  for (const [label, server, client] of [
    ['a node of the previous version (blocks/1.0.0 only) serves a new node', { blockProtocols: [BLOCKS_PROTOCOL_V1] }, {}],
    ['a new node serves a node of the previous version', {}, { blockProtocols: [BLOCKS_PROTOCOL_V1] }]
  ] as const) {
    it(`${label}: raw on the wire, compressed at rest, verified`, async () => {
      const [a, b] = await pair(server, client)
      try {
        const blocks = textBlocks(20, 2)
        await addVersion(a, { version: 'v1', blocks })
        const result = await b.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [a.addr] })
        const raw = distinctBytes(blocks)
        assert.equal(result.fetchedBytes, raw.bytes)
        assert.ok(result.wireBytes >= raw.bytes, `1.0.0 carries raw blocks: wire ${result.wireBytes} for ${raw.bytes}`)
        assert.equal(await verifyAll(b), raw.count + 1)
        assert.equal((await b.blockstore.getEncoded(cidOf(blocks[0] as Uint8Array))).codec, CODEC_ZSTD, 'compressed when stored')
      } finally {
        await Promise.all([a.stop(), b.stop()])
      }
    })
  }
})
