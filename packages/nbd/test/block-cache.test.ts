import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createBlockCache, type BlockDevice } from '../src/index.js'

/** A device whose byte i is i % 251, counting reads. */
function counting (size: number): BlockDevice & { reads: Array<[number, number]>, fail: boolean } {
  const d = {
    size,
    reads: [] as Array<[number, number]>,
    fail: false,
    async read (offset: number, length: number): Promise<Uint8Array> {
      d.reads.push([offset, length])
      await new Promise(resolve => setTimeout(resolve, 5))
      if (d.fail) throw new Error('base failed')
      return Uint8Array.from({ length }, (_, i) => (offset + i) % 251)
    }
  }
  return d
}

const expect = (offset: number, length: number): Uint8Array => Uint8Array.from({ length }, (_, i) => (offset + i) % 251)

describe('createBlockCache', () => {
  it('reads each block from the base once, for many concurrent readers and unaligned ranges', async () => {
    const base = counting(10_000)
    const cache = createBlockCache(base, { blockBytes: 1000, maxBytes: 100_000 })
    const ranges: Array<[number, number]> = [[0, 10_000], [1500, 2000], [999, 2], [9_000, 1000], [9_999, 1]]
    const results = await Promise.all(Array.from(
      { length: 20 },
      async (_, i) => { const [o, l] = ranges[i % ranges.length]; return [o, l, await cache.read(o, l)] as const }
    ))
    for (const [o, l, bytes] of results) assert.deepEqual(bytes, expect(o, l))
    assert.equal(base.reads.length, 10)
    assert.equal(cache.stats().baseReadBytes, 10_000)
    assert.equal(cache.stats().misses, 10)
  })

  it('stays within its budget, evicting the least recently used, with a short last block', async () => {
    const base = counting(3_500)
    const cache = createBlockCache(base, { blockBytes: 1000, maxBytes: 2000 })
    await cache.read(0, 1000)
    await cache.read(1000, 1000)
    await cache.read(0, 10) // block 0 used again: block 1 is the one to go
    await cache.read(3000, 500)
    assert.ok(cache.stats().cachedBytes <= 2000)
    base.reads.length = 0
    await cache.read(0, 1)
    assert.equal(base.reads.length, 0)
    assert.deepEqual(await cache.read(1000, 1000), expect(1000, 1000))
    assert.deepEqual(base.reads, [[1000, 1000]])
  })

  it('does not cache a failed read', async () => {
    const base = counting(2000)
    const cache = createBlockCache(base, { blockBytes: 1000 })
    base.fail = true
    await assert.rejects(cache.read(0, 10), /base failed/)
    base.fail = false
    assert.deepEqual(await cache.read(0, 10), expect(0, 10))
  })
})
