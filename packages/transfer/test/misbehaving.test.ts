import './helpers.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { Stream } from '@libp2p/interface'
import { randomBytes } from 'node:crypto'
import { pino } from 'pino'
import { CODEC_ZSTD, encodeBlock } from '@cachecloud/codec'
import { Uint8ArrayList } from 'uint8arraylist'
import { BLOCKS_PROTOCOL, decodeWant, encodeBlockResponse, MAX_REQUEST_BYTES, PeerMisbehavedError, PullFailedError } from '../src/index.js'
import { encodeFrame, FrameReader, FrameTooLargeError } from '@cachecloud/frame'
import { encodeVarint } from '@cachecloud/frame'
import { addVersion, countHeld, makeManifest, distinctBytes, randomBlocks, startNode, verifyAll, waitFor, type TestNode } from './helpers.js'

type Mode = 'corrupt' | 'unrequested' | 'oversized' | 'garbage' | 'zstd-bomb' | 'zstd-truncated' | 'zstd-other-block' | 'zstd-garbage'

/** Compressible bytes of `length` that are not any block of the test. */
function textOf (length: number, seed: number): Uint8Array {
  return new TextEncoder().encode(Array.from({ length: Math.ceil(length / 8) }, (_v, i) => `w${(i * seed) % 997}`.padEnd(8, ' ')).join('').slice(0, length))
}

/** Replaces a node's blocks handler with one that answers every WANT wrongly, and records how its streams end. */
async function misbehave (node: TestNode, mode: Mode): Promise<{ ended: string[] }> {
  const ended: string[] = []
  await node.libp2p.unhandle(BLOCKS_PROTOCOL)
  await node.libp2p.handle(BLOCKS_PROTOCOL, async (stream: Stream) => {
    try {
      for await (const body of new FrameReader(stream, MAX_REQUEST_BYTES)) {
        const cids = decodeWant(body)
        for (const [i, cid] of cids.entries()) {
          const bytes = await node.blockstore.get(cid)
          let frame
          if (mode === 'corrupt') {
            const bad = Uint8Array.from(bytes)
            bad[bad.byteLength >> 1] ^= 0xff
            frame = encodeBlockResponse(cid, bad)
          } else if (mode === 'unrequested') {
            const other = cids[(i + 1) % cids.length]
            frame = encodeBlockResponse(other, await node.blockstore.get(other))
          } else if (mode === 'zstd-bomb') {
            // a few hundred bytes that would inflate to 16 MiB: refused from the frame's content size, before inflating
            frame = encodeBlockResponse(cid, encodeBlock(new Uint8Array(16 * 1024 * 1024)).bytes, CODEC_ZSTD)
          } else if (mode === 'zstd-truncated') {
            const whole = encodeBlock(textOf(bytes.byteLength, 7)).bytes
            frame = encodeBlockResponse(cid, whole.subarray(0, whole.byteLength - 9), CODEC_ZSTD)
          } else if (mode === 'zstd-other-block') {
            frame = encodeBlockResponse(cid, encodeBlock(textOf(bytes.byteLength, 11)).bytes, CODEC_ZSTD)
          } else if (mode === 'zstd-garbage') {
            frame = encodeBlockResponse(cid, randomBytes(1000), CODEC_ZSTD)
          } else if (mode === 'oversized') {
            frame = new Uint8ArrayList(encodeVarint(2 ** 31), new Uint8Array(100)) // a prefix claiming a 2 GiB frame, then a few bytes
          } else {
            frame = encodeFrame(Uint8Array.of(0x07, 0xde, 0xad, 0xbe, 0xef))
          }
          if (!stream.send(frame)) await stream.onDrain()
        }
      }
    } catch {}
    await waitFor(() => stream.status !== 'open', { timeoutMs: 5000 }).catch(() => {})
    ended.push(stream.status)
  }, { force: true })
  return { ended }
}

describe('misbehaving peers', () => {
  let honest: TestNode
  let b: TestNode
  const blocks = randomBlocks(60, 64 * 1024)
  const ref = { name: 'disk', version: 'v1' }
  const manifest = makeManifest({ version: 'v1', blocks })

  before(async () => {
    honest = await startNode()
    await addVersion(honest, { version: 'v1', blocks }, manifest)
  })
  after(async () => { await honest?.stop() })

  for (const mode of ['corrupt', 'unrequested', 'oversized', 'garbage', 'zstd-bomb', 'zstd-truncated', 'zstd-other-block', 'zstd-garbage'] as const) {
    it(`resets a peer sending ${mode} responses and completes from an honest peer`, async () => {
      const evil = await startNode()
      b = await startNode()
      try {
        await addVersion(evil, { version: 'v1', blocks }, manifest)
        const { ended } = await misbehave(evil, mode)
        const result = await b.transfer.pull({ ref, peers: [evil.addr, honest.addr] })
        const expected = distinctBytes(blocks)
        assert.equal(result.fetchedBytes, expected.bytes)
        assert.equal(result.bytesByPeer[evil.libp2p.peerId.toString()] ?? 0, 0)
        assert.equal(result.bytesByPeer[honest.libp2p.peerId.toString()], expected.bytes)
        assert.equal(await verifyAll(b), expected.count + 1)
        assert.equal((await b.catalog.get(ref)).state, 'complete')
        await waitFor(() => ended.length > 0)
        assert.deepEqual(ended, ['reset'])
      } finally {
        await Promise.all([evil.stop(), b.stop()])
      }
    })
  }

  it('fails with a clear error, storing nothing corrupt, when the only peer sends wrong bytes', async () => {
    const evil = await startNode()
    b = await startNode()
    try {
      await addVersion(evil, { version: 'v1', blocks }, manifest)
      await misbehave(evil, 'corrupt')
      await b.stop()
      const lines: string[] = []
      b = await startNode({ logger: pino({ level: 'warn' }, { write: (line: string) => { lines.push(line) } }) })
      const err = await b.transfer.pull({ ref, peers: [evil.addr] }).then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof PullFailedError, String(err))
      assert.equal(err.code, 'ERR_PULL_FAILED')
      assert.ok(err.cause instanceof PeerMisbehavedError)
      assert.equal((err.cause as PeerMisbehavedError).code, 'ERR_PEER_MISBEHAVED')
      assert.equal(await countHeld(b, blocks), 0)
      assert.equal(await verifyAll(b), 1) // only the manifest
      assert.equal((await b.catalog.get(ref)).state, 'pulling')
      assert.ok(lines.some(line => line.includes('do not match') && line.includes(evil.libp2p.peerId.toString())), lines.join(''))
    } finally {
      await Promise.all([evil.stop(), b.stop()])
    }
  })

  it('gives up on a peer that takes the wants and sends nothing, after the timeout', async () => {
    const silent = await startNode()
    b = await startNode({ timeoutMs: 800 })
    try {
      await addVersion(silent, { version: 'v1', blocks }, manifest)
      await silent.libp2p.unhandle(BLOCKS_PROTOCOL)
      await silent.libp2p.handle(BLOCKS_PROTOCOL, async (stream: Stream) => {
        for await (const _ of stream) { /* reads the wants, answers none */ }
      }, { force: true })
      const started = Date.now()
      const err = await b.transfer.pull({ ref, peers: [silent.addr] }).then(() => undefined, (e: unknown) => e)
      const waited = Date.now() - started
      assert.ok(err instanceof PullFailedError, String(err))
      assert.ok(err.cause instanceof PeerMisbehavedError, String(err.cause))
      assert.match((err.cause as Error).message, /sent nothing for 800 ms/)
      assert.ok(waited >= 800 && waited < 5000, `gave up after ${waited} ms`)
      assert.equal(await countHeld(b, blocks), 0)
    } finally {
      await Promise.all([silent.stop(), b.stop()])
    }
  })

  it('rejects an oversized frame from its prefix, without waiting for its body', async () => {
    const evil = await startNode()
    b = await startNode()
    try {
      await addVersion(evil, { version: 'v1', blocks }, manifest)
      await misbehave(evil, 'oversized')
      const started = Date.now()
      const err = await b.transfer.pull({ ref, peers: [evil.addr] }).then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof PullFailedError, String(err))
      assert.ok(err.cause instanceof PeerMisbehavedError)
      assert.ok((err.cause as Error).cause instanceof FrameTooLargeError)
      assert.ok(Date.now() - started < 5000)
    } finally {
      await Promise.all([evil.stop(), b.stop()])
    }
  })
})
