import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Uint8ArrayList } from 'uint8arraylist'
import { encodeFrame, encodeVarint, FrameReader, FrameTooLargeError, InvalidVarintError, readVarint, StreamTruncatedError, varintLength } from '../src/index.js'

/** A frame bound as the block protocol's (about 1 MiB). */
const MAX = 1 << 20

async function * chunks (...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part
}

describe('frames', () => {
  it('round-trips frames split into 1-byte chunks, and counts what it read', async () => {
    const bodies = [Uint8Array.of(), Uint8Array.of(1, 2, 3), new Uint8Array(300).fill(7)]
    const all = new Uint8ArrayList(...bodies.map(b => encodeFrame(b))).subarray()
    const reader = new FrameReader(chunks(...Array.from(all, byte => Uint8Array.of(byte))), MAX)
    const out: Uint8Array[] = []
    for await (const body of reader) out.push(body.subarray())
    assert.deepEqual(out, bodies)
    assert.equal(reader.bytesRead, all.byteLength)
    assert.equal(reader.consumed, all.byteLength)
  })

  it('encodes varints minimally and reads back what it wrote', () => {
    for (const n of [0, 1, 127, 128, 16_383, 16_384, 2 ** 32, 2 ** 53 - 1]) {
      const bytes = encodeVarint(n)
      assert.equal(bytes.byteLength, varintLength(n))
      assert.deepEqual(readVarint(i => bytes[i], bytes.byteLength, 0), { value: n, next: bytes.byteLength })
    }
    assert.equal(readVarint(i => [0x80][i], 1, 0), undefined, 'more bytes needed')
  })

  it('rejects an oversized frame from its length prefix alone, without waiting for or buffering its body', async () => {
    let pulled = 0
    const source = {
      async * [Symbol.asyncIterator] () {
        pulled++
        yield encodeVarint(2 ** 40)
        pulled++
        await new Promise(() => {}) // a peer that would stream a terabyte: never reached
      }
    }
    const reader = new FrameReader(source, MAX)
    await assert.rejects(reader.next(), FrameTooLargeError)
    assert.equal(pulled, 1)
    assert.ok(reader.bytesRead < 16)
    await assert.rejects(new FrameReader(chunks(encodeVarint(MAX + 1)), MAX).next(), FrameTooLargeError)
  })

  it('rejects endless varints and streams that end inside a frame', async () => {
    await assert.rejects(new FrameReader(chunks(new Uint8Array(12).fill(0x80)), MAX).next(), InvalidVarintError)
    await assert.rejects(new FrameReader(chunks(Uint8Array.of(10, 1, 2)), MAX).next(), StreamTruncatedError)
    await assert.rejects(new FrameReader(chunks(Uint8Array.of(0x80, 0x00)), MAX).next(), InvalidVarintError)
    assert.equal(await new FrameReader(chunks(), MAX).next(), undefined)
  })
})
