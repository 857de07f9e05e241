import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeHaveResponse, encodeHaveResponse, InvalidSwarmMessageError } from '../src/index.js'

describe('have 1.1.0 wire format', () => {
  it('encodes the example of docs/formats/protocols.md byte by byte, and back', () => {
    const answer = { state: 'partial' as const, site: 'b1', count: 10, bitmap: Uint8Array.of(0x03, 0x02), claimed: Uint8Array.of(0x10, 0x00) }
    const frame = encodeHaveResponse(answer).subarray()
    assert.equal(Buffer.from(frame).toString('hex'), '0902026231' + '0a' + '0302' + '1000')
    assert.deepEqual(decodeHaveResponse(frame.subarray(1)), answer)
  })

  it('refuses a partial answer without its claimed bitmap (a 1.0.0 answer) or with bitmaps of the wrong size', () => {
    // 1.0.0 layout: status, site, count, one bitmap
    assert.throws(() => decodeHaveResponse(Uint8Array.of(0x02, 0x02, 0x62, 0x31, 0x0a, 0x03, 0x02)), InvalidSwarmMessageError)
    assert.throws(() => decodeHaveResponse(Uint8Array.of(0x02, 0x00, 0x0a, 0x03, 0x02, 0x10)), InvalidSwarmMessageError)
    assert.throws(() => encodeHaveResponse({ state: 'partial', site: '', count: 10, bitmap: new Uint8Array(2), claimed: new Uint8Array(1) }), InvalidSwarmMessageError)
  })
})
