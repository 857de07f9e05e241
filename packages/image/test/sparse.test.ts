import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { allocatedBytes, makeSparseImage, requireTools, sha256File } from '@cachecloud/fixtures'
import { exportImage, importImage } from '../src/index.js'
import { isHoleRange, parseFilefrag } from '../src/data-ranges.js'
import { makeNode, MiB, tempDir, type Node } from './helpers.js'

describe('sparse images', () => {
  const nodes: Node[] = []
  after(async () => { for (const n of nodes) await n.destroy() })

  it('an import reads a sparse file\'s allocated bytes, not its holes, and exports it bit-identical', async () => {
    await requireTools(['filefrag'])
    const dir = await tempDir()
    const file = join(dir, 'sparse.raw')
    const size = 2048 * MiB
    await makeSparseImage(file, size, [{ offset: 100 * MiB, length: 3 * MiB }, { offset: 1500 * MiB + 4096, length: 2 * MiB }])
    const node = await makeNode()
    nodes.push(node)
    const { manifest, stats } = await importImage({ file, name: 'sparse', version: 'v1', blockstore: node.blockstore, catalog: node.catalog, key: node.key })
    assert.ok(await allocatedBytes(file) <= 6 * MiB)
    // each data extent is read in whole 1 MiB chunks around it
    assert.ok(stats.bytesRead <= 8 * MiB, `read ${stats.bytesRead} bytes of a ${size}-byte file holding 5 MiB`)
    assert.equal(stats.holes + stats.newBlocks + stats.dedupedBlocks, manifest.blocks.length)
    const out = join(dir, 'out.raw')
    await exportImage({ manifest, blockstore: node.blockstore, file: out })
    assert.equal(await sha256File(out), await sha256File(file))
  })

  it('skips the holes of an image whose data regions lie one after another on disk (fewer extents counted than listed)', async () => {
    await requireTools(['filefrag'])
    const dir = await tempDir()
    const file = join(dir, 'regions.raw')
    // 32 regions of 1 MiB, 16 MiB apart in the file: written in order, ext4 lays them out contiguously, and filefrag
    // counts fewer extents than it lists
    await makeSparseImage(file, 512 * MiB, Array.from({ length: 32 }, (_, i) => ({ offset: i * 16 * MiB, length: MiB })))
    const node = await makeNode()
    nodes.push(node)
    const { manifest, stats } = await importImage({ file, name: 'regions', version: 'v1', blockstore: node.blockstore, catalog: node.catalog, key: node.key })
    assert.ok(stats.bytesRead <= 32 * MiB, `read ${stats.bytesRead} bytes of a 512 MiB file holding 32 MiB`)
    const out = join(dir, 'out.raw')
    await exportImage({ manifest, blockstore: node.blockstore, file: out })
    assert.equal(await sha256File(out), await sha256File(file))
  })

  it('parses filefrag\'s extent listing, and refuses output it does not understand', () => {
    const listing = [
      'Filesystem type is: ef53',
      'File size of /x is 1073741824 (1073741824 blocks of 1 bytes)',
      ' ext:     logical_offset:        physical_offset: length:   expected: flags:',
      '   0: 104857600..108003327:          0..         0:      0:             unknown_loc,delalloc',
      '   1: 524288000..526385151:          0..         0:      0:             last,unknown_loc,delalloc',
      '/x: 2 extents found'
    ].join('\n')
    const ranges = parseFilefrag(listing, 1073741824)
    assert.deepEqual(ranges, [{ start: 104857600, end: 108003328 }, { start: 524288000, end: 526385152 }])
    assert.equal(isHoleRange(ranges ?? [], 0, 104857600), true)
    assert.equal(isHoleRange(ranges ?? [], 104857600 - 1, 104857601), false)
    assert.equal(isHoleRange(ranges ?? [], 108003328, 524288000), true)
    assert.equal(isHoleRange(ranges ?? [], 526385151, 600000000), false)
    assert.equal(parseFilefrag('/x: FIBMAP unsupported\n', 10), undefined)
    assert.equal(parseFilefrag(listing.replace('2 extents found', ''), 1073741824), undefined)
    // counted as one physically contiguous run, listed as two
    assert.deepEqual(parseFilefrag(listing.replace('2 extents found', '1 extent found'), 1073741824), ranges)
    assert.deepEqual(parseFilefrag('File size of /x is 5 (5 blocks of 1 bytes)\n ext: logical_offset: physical_offset:\n/x: 0 extents found\n', 5), [])
  })
})
