import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { Uint8ArrayList } from 'uint8arraylist'
import { decodeBlockResponse, decodeCatalogRequest, decodeCatalogResponse, decodeManifestRequest, decodeManifestResponse, decodeWant, encodeBlockResponse, encodeCatalogRequest, encodeCatalogResponse, encodeManifestRequest, encodeManifestResponse, encodeWant, InvalidMessageError, MAX_FRAME_BYTES, MAX_WANTS_PER_REQUEST, type RemoteVersion } from '../src/index.js'
import { FrameReader } from '@cachecloud/frame'

async function * chunks (...parts: Uint8Array[]): AsyncGenerator<Uint8Array> {
  for (const part of parts) yield part
}

/** Splits encoded frames into tiny chunks, as a network would, and reads the bodies back. */
async function readAll (frames: Uint8ArrayList[], max = MAX_FRAME_BYTES, chunkSize = 7): Promise<Uint8ArrayList[]> {
  const all = new Uint8ArrayList(...frames).subarray()
  const parts: Uint8Array[] = []
  for (let i = 0; i < all.byteLength; i += chunkSize) parts.push(all.subarray(i, i + chunkSize))
  const out: Uint8ArrayList[] = []
  for await (const body of new FrameReader(chunks(...parts), max)) out.push(body)
  return out
}

describe('wire codec', () => {
  const blocks = [new Uint8Array(1000).fill(1), new Uint8Array(70_000).fill(2), Uint8Array.of(3)]
  const cids = blocks.map(b => cidOf(b))

  it('round-trips WANT requests and block responses through a chunked stream', async () => {
    const frames = [
      encodeWant(cids),
      encodeBlockResponse(cids[0], blocks[0]),
      encodeBlockResponse(cids[1]),
      encodeBlockResponse(cids[2], blocks[2]),
      encodeBlockResponse(cids[1], blocks[1])
    ]
    const bodies = await readAll(frames)
    assert.equal(bodies.length, 5)
    assert.deepEqual(decodeWant(bodies[0]).map(c => c.toString()), cids.map(c => c.toString()))
    const r0 = decodeBlockResponse(bodies[1])
    assert.ok(r0.cid.equals(cids[0]))
    assert.deepEqual(r0.bytes, blocks[0])
    const r1 = decodeBlockResponse(bodies[2])
    assert.ok(r1.cid.equals(cids[1]))
    assert.equal(r1.bytes, undefined)
    assert.deepEqual(decodeBlockResponse(bodies[3]).bytes, blocks[2])
    assert.deepEqual(decodeBlockResponse(bodies[4]).bytes, blocks[1])
  })

  it('round-trips catalog and manifest messages', async () => {
    const versions: RemoteVersion[] = [
      { name: 'win11', version: '2026.11', cid: cidOf(Uint8Array.of(9), 0x71), state: 'complete', size: 20 * 2 ** 30 + 5, blockSize: 262144 },
      { name: 'ubuntu', version: 'v2', cid: cidOf(Uint8Array.of(8), 0x71), state: 'pulling', size: 0, blockSize: 4096 }
    ]
    const [req, all, res, mreq, mres, mnf] = await readAll([
      encodeCatalogRequest('win11'), encodeCatalogRequest(), encodeCatalogResponse(versions),
      encodeManifestRequest(versions[0].cid), encodeManifestResponse(blocks[1]), encodeManifestResponse()
    ])
    assert.deepEqual(decodeCatalogRequest(req), { name: 'win11' })
    assert.deepEqual(decodeCatalogRequest(all), {})
    const decoded = decodeCatalogResponse(res)
    assert.equal(decoded.length, 2)
    assert.equal(decoded[0].size, versions[0].size)
    assert.ok(decoded[0].cid.equals(versions[0].cid))
    assert.deepEqual({ ...decoded[1], cid: null }, { ...versions[1], cid: null })
    assert.ok(decodeManifestRequest(mreq).equals(versions[0].cid))
    assert.deepEqual(decodeManifestResponse(mres), blocks[1])
    assert.equal(decodeManifestResponse(mnf), undefined)
  })

  it('rejects garbage messages with InvalidMessageError', () => {
    const want = encodeWant(cids).subarray().subarray(1) // body without its one-byte length prefix... of a longer frame
    assert.throws(() => decodeWant(Uint8Array.of(0x02, 1, 0)), InvalidMessageError)
    assert.throws(() => decodeWant(Uint8Array.of(0x01, 0)), InvalidMessageError)
    assert.throws(() => decodeWant(Uint8Array.of(0x01, 1, 36, 1, 2, 3)), InvalidMessageError)
    assert.throws(() => decodeWant(new Uint8Array([...want, 0])), InvalidMessageError)
    assert.throws(() => decodeBlockResponse(new Uint8ArrayList(Uint8Array.of(7, 1, 2))), InvalidMessageError)
    assert.throws(() => decodeBlockResponse(new Uint8ArrayList(Uint8Array.of(0, 200, 1))), InvalidMessageError)
    assert.throws(() => decodeBlockResponse(new Uint8ArrayList(Uint8Array.of(1, 3, 1, 2, 3))), InvalidMessageError)
    assert.throws(() => decodeCatalogResponse(Uint8Array.of(1, 0, 3, 0x2e, 0x2e, 0x2f)), InvalidMessageError)
    assert.throws(() => decodeCatalogRequest(Uint8Array.of(1, 5, 0x61)), InvalidMessageError)
    assert.throws(() => decodeManifestResponse(Uint8Array.of(1, 2)), InvalidMessageError)
    assert.throws(() => decodeManifestResponse(Uint8Array.of()), InvalidMessageError)
    assert.throws(() => encodeWant([]), RangeError)
    assert.throws(() => encodeWant(new Array(MAX_WANTS_PER_REQUEST + 1).fill(cids[0])), RangeError)
  })
})

describe('block response bytes', () => {
  it('gathers a block spanning several chunks into the caller\'s buffer, and leaves a block in one chunk where it is', async () => {
    const block = Uint8Array.from({ length: 5000 }, (_v, i) => i % 251)
    const cid = cidOf(block)
    const asked: number[] = []
    const target = (length: number): Uint8Array => { asked.push(length); return new Uint8Array(new ArrayBuffer(8192), 0, length) }
    const [split] = await readAll([encodeBlockResponse(cid, block)], MAX_FRAME_BYTES, 1000)
    const gathered = decodeBlockResponse(split, true, target)
    assert.deepEqual(asked, [5000])
    assert.equal(gathered.bytes?.buffer.byteLength, 8192, 'in the buffer given')
    assert.deepEqual(gathered.bytes, block)
    const [whole] = await readAll([encodeBlockResponse(cid, block)], MAX_FRAME_BYTES, 100_000)
    const inPlace = decodeBlockResponse(whole, true, target)
    assert.deepEqual(asked, [5000], 'one chunk: no copy')
    assert.deepEqual(inPlace.bytes, block)
  })
})
