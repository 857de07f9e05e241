import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { encodeManifest } from '@cachecloud/manifest'
import { blocksOfChunks, commitVersion, CommitSizeMismatchError, VersionExistsError } from '../src/index.js'
import { makeNode, smallManifest, type Node } from './helpers.js'

const BS = 4096

describe('commitVersion', () => {
  let node: Node
  before(async () => { node = await makeNode() })
  after(async () => { await node.destroy() })

  it('reads only the written blocks; zeros become holes; the rest is the base; the parent is the base', async () => {
    const base = smallManifest(node.key, 'os', 'v1', [1, 2, 3, 4, 5], new Date(), BS)
    const baseCid = encodeManifest(base).cid
    const disk = Buffer.alloc(5 * BS)
    for (let i = 0; i < 5; i++) disk.fill(i + 1, i * BS, (i + 1) * BS)
    disk.fill(9, BS, BS + 100) // block 1: partly rewritten
    disk.fill(0, 3 * BS, 4 * BS) // block 3: zeroed
    const reads: number[] = []
    const source = {
      size: disk.byteLength,
      read: async (offset: number, length: number) => { reads.push(offset / BS); return disk.subarray(offset, offset + length) }
    }
    const r = await commitVersion({ base, baseCid, source, writtenBlocks: [3, 1, 1], name: 'os', version: 'v2', blockstore: node.blockstore, catalog: node.catalog, key: node.key })
    assert.deepEqual(reads.sort(), [1, 3])
    assert.equal(r.manifest.parent?.toString(), baseCid.toString())
    assert.deepEqual(
      r.manifest.blocks.map(c => c?.toString() ?? null),
      [base.blocks[0], cidOf(disk.subarray(BS, 2 * BS)), base.blocks[2], null, base.blocks[4]].map(c => c?.toString() ?? null)
    )
    assert.deepEqual({ ...r.stats, durationMs: 0 }, { blocks: 5, writtenBlocks: 2, holes: 1, dedupedBlocks: 0, newBlocks: 1, newBytes: BS, durationMs: 0 })
    assert.equal((await node.catalog.get({ name: 'os', version: 'v2' })).state, 'complete')
    assert.deepEqual(await node.blockstore.get(r.manifest.blocks[1] as never), disk.subarray(BS, 2 * BS))
  })

  it('refuses an existing version and writes of another size', async () => {
    const base = smallManifest(node.key, 'os', 'v1', [1, 2], new Date(), BS)
    const baseCid = encodeManifest(base).cid
    const source = { size: 2 * BS, read: async (_o: number, l: number) => new Uint8Array(l) }
    const common = { base, baseCid, writtenBlocks: [0], blockstore: node.blockstore, catalog: node.catalog, key: node.key, name: 'os' }
    await assert.rejects(commitVersion({ ...common, source, version: 'v2' }), VersionExistsError)
    await assert.rejects(commitVersion({ ...common, source: { ...source, size: BS }, version: 'v3' }), CommitSizeMismatchError)
  })

  it('maps written chunks to the blocks they touch', () => {
    // 64 KiB chunks, 256 KiB blocks: chunks 3 and 4 straddle blocks 0 and 1; 1 MiB blocks hold 16 chunks
    assert.deepEqual(blocksOfChunks([4, 3, 40], 65536, 262144, 4 * 1024 * 1024), [0, 1, 10])
    assert.deepEqual(blocksOfChunks([0, 15, 16], 65536, 1048576, 4 * 1024 * 1024), [0, 1])
    // 4 KiB blocks under a 64 KiB chunk: every block of it; beyond the end: nothing
    assert.deepEqual(blocksOfChunks([1, 99], 65536, 16384, 2 * 65536), [4, 5, 6, 7])
  })
})
