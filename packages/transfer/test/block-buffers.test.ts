import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BlockBuffers } from '../src/block-buffers.js'

describe('block buffers', () => {
  it('hands a given-back buffer out again for a block of its size, keeps at most max, and never reuses for a longer block', () => {
    const buffers = new BlockBuffers(1)
    const a = buffers.take(100, 4096)
    assert.equal(a.byteLength, 100)
    assert.equal(a.buffer.byteLength, 4096)
    buffers.give(a)
    const b = buffers.take(3000, 4096)
    assert.equal(b.buffer, a.buffer, 'reused')
    assert.notEqual(buffers.take(10, 4096).buffer, a.buffer, 'taken: not handed out twice')
    buffers.give(b)
    buffers.give(new Uint8Array(4096))
    const longer = buffers.take(5000, 4096)
    assert.equal(longer.byteLength, 5000)
    assert.notEqual(longer.buffer, b.buffer)
    assert.equal(buffers.take(1, 4096).buffer, b.buffer, 'the second give was beyond max')
    assert.notEqual(buffers.take(1, 4096).buffer, b.buffer)
  })
})
