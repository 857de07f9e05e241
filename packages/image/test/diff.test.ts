import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generatePublisherKey } from '@cachecloud/manifest'
import { diffManifests, missingBlocks } from '../src/index.js'
import { smallManifest } from './helpers.js'

describe('diffManifests', () => {
  const key = generatePublisherKey()

  it('reports changed, added and removed indexes and the distinct blocks to fetch', () => {
    const from = smallManifest(key, 'os', 'v1', [1, 2, null, 3, 4])
    const to = smallManifest(key, 'os', 'v2', [1, 9, 5, null, 4, 9, 2, 7])
    const d = diffManifests(from, to)
    assert.deepEqual(d.changed, [1, 2, 3])
    assert.deepEqual(d.added, [5, 6, 7])
    assert.deepEqual(d.removed, [])
    // 9 appears twice but is fetched once; 2 and 4 are already held; holes never fetched.
    assert.deepEqual(d.fetch.map((b) => b.cid.toString()), [to.blocks[1], to.blocks[2], to.blocks[7]].map(String))
    assert.equal(d.fetchBytes, 3 * 4096)
    assert.deepEqual(diffManifests(to, from).removed, [5, 6, 7])
  })

  it('gives the short length of a last partial block', () => {
    const from = smallManifest(key, 'os', 'v1', [1])
    const to = { ...smallManifest(key, 'os', 'v2', [1, 2]), size: 4096 + 100 }
    const d = diffManifests(from, to)
    assert.equal(d.fetchBytes, 100)
    assert.equal(d.fetch[0]?.length, 100)
  })

  it('an identical manifest needs nothing', () => {
    const m = smallManifest(key, 'os', 'v1', [1, null, 2, 2])
    const d = diffManifests(m, m)
    assert.deepEqual([d.changed, d.added, d.removed, d.fetch, d.fetchBytes], [[], [], [], [], 0])
  })

  it('missingBlocks lists distinct absent blocks in order with their bytes', async () => {
    const m = smallManifest(key, 'os', 'v1', [1, 2, null, 3, 2, 4, 1])
    const held = new Set([m.blocks[1]?.toString(), m.blocks[5]?.toString()])
    const asked: string[] = []
    const missing = await missingBlocks(m, async (cid) => { asked.push(cid.toString()); return held.has(cid.toString()) })
    assert.deepEqual(missing.blocks.map((b) => b.cid.toString()), [m.blocks[0], m.blocks[3]].map(String))
    assert.equal(missing.bytes, 2 * 4096)
    assert.equal(asked.length, 4, 'each distinct block asked once')
  })

  it('handles a 100k-block manifest quickly', async () => {
    const fill = Array.from({ length: 100_000 }, (_, i) => i % 7 === 0 ? null : i % 251)
    const from = smallManifest(key, 'os', 'v1', fill)
    const to = smallManifest(key, 'os', 'v2', fill.map((b, i) => i % 1000 === 1 ? 255 : b))
    const started = performance.now()
    const d = diffManifests(from, to)
    assert.equal(d.changed.length, 100)
    assert.equal(d.fetch.length, 1)
    const missing = await missingBlocks(to, async () => false)
    assert.equal(missing.blocks.length, 252)
    assert.ok(performance.now() - started < 5000)
  })
})
