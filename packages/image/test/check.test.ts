import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createTrustStore, formatPublicKey, generatePublisherKey } from '@cachecloud/manifest'
import { checkImages } from '../src/index.js'
import { makeNode, smallManifest, type Node } from './helpers.js'

const BLOCK = 4096
const blockOf = (b: number): Uint8Array => new Uint8Array(BLOCK).fill(b)

describe('checkImages', () => {
  const nodes: Node[] = []
  after(async () => { for (const n of nodes) await n.destroy() })

  async function nodeWith (fills: Record<string, number[]>, state: 'complete' | 'pulling' = 'complete'): Promise<Node> {
    const n = await makeNode()
    nodes.push(n)
    for (const [version, fill] of Object.entries(fills)) {
      for (const b of fill) await n.blockstore.put((await n.blockstore.putBytes(blockOf(b))).cid, blockOf(b))
      await n.catalog.add(smallManifest(n.key, 'os', version, fill), state)
    }
    await n.blockstore.sync()
    return n
  }

  it('reports a healthy store as ok, and a block missing from a complete version as damage of that version only', async () => {
    const n = await nodeWith({ v1: [1, 2], v2: [1, 3] })
    const trust = createTrustStore([formatPublicKey(n.key.publicKey)])
    const healthy = await checkImages({ catalog: n.catalog, blockstore: n.blockstore, trust, readData: true })
    assert.equal(healthy.report.ok, true, healthy.report.problems.join('; '))
    assert.equal(healthy.report.data?.blocks, 5, 'three blocks and two manifests read')

    const { cid } = await n.blockstore.putBytes(blockOf(3))
    await n.blockstore.delete(cid)
    const lost = await checkImages({ catalog: n.catalog, blockstore: n.blockstore, trust })
    assert.equal(lost.report.ok, false)
    assert.deepEqual(lost.report.damaged, ['os@v2'])
    assert.deepEqual(lost.report.versions.map(v => [v.ref, v.missingBlocks]), [['os@v1', 0], ['os@v2', 1]])
    assert.deepEqual(lost.affected.map(e => e.version), ['v2'])
  })

  it('a pulling version missing blocks is not damage', async () => {
    const n = await nodeWith({ v1: [7] }, 'pulling')
    const { cid } = await n.blockstore.putBytes(blockOf(7))
    await n.blockstore.delete(cid)
    const r = await checkImages({ catalog: n.catalog, blockstore: n.blockstore, trust: createTrustStore([formatPublicKey(n.key.publicKey)]) })
    assert.equal(r.report.ok, true)
    assert.equal(r.report.versions[0]?.missingBlocks, 1)
  })

  it('names a manifest from a publisher no longer trusted, and an unreadable catalog entry, without hiding the rest', async () => {
    const n = await nodeWith({ v1: [1], v2: [2] })
    await writeFile(join(n.dir, 'catalog', 'refs', 'os', 'v3.json'), '{"v": 1, "cid": "not a cid"')
    const r = await checkImages({ catalog: n.catalog, blockstore: n.blockstore, trust: createTrustStore([formatPublicKey(generatePublisherKey().publicKey)]) })
    assert.equal(r.report.ok, false)
    assert.deepEqual(r.report.catalog.damagedRefs.map(d => d.ref), ['os@v3'])
    assert.equal(r.report.catalog.versions, 2)
    assert.deepEqual(r.report.damaged, ['os@v1', 'os@v2'])
    assert.match(r.report.versions[0]?.manifest ?? '', /not a trusted publisher/)
  })
})
