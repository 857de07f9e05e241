import assert from 'node:assert/strict'
import { rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { allocatedBytes, makeSparseImage, sha256File } from '@cachecloud/fixtures'
import { exportImage, importImage } from '../src/index.js'
import { makeNode, MiB, tempDir, type Node } from './helpers.js'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

describe('constant memory', () => {
  const nodes: Node[] = []
  const dirs: string[] = []
  after(async () => {
    for (const n of nodes) await n.destroy()
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('imports and exports a sparse 2 GiB image without memory growing with its size', async (t) => {
    const node = await makeNode()
    nodes.push(node)
    const files = await tempDir()
    dirs.push(files)
    const path = join(files, 'big.raw')
    const size = 2 * 1024 * MiB
    // 24 MiB of data at 4 places, the rest holes: reading 2 GiB costs little, and so must memory.
    await makeSparseImage(path, size, [0, 700, 1300, 2040].map((mib, i) => ({ offset: mib * MiB + i * 4096, length: 6 * MiB })), 'big')

    // fixed costs first (the block store's compression threads start on first use): what is measured is growth with the image's size
    const warm = join(files, 'warm.raw')
    await makeSparseImage(warm, 4 * MiB, [{ offset: 0, length: 4 * MiB }], 'warm')
    await importImage({ file: warm, name: 'warm', version: 'v1', blockstore: node.blockstore, catalog: node.catalog, key: node.key, blockSize: 64 * 1024 })
    gc()
    const base = process.memoryUsage().rss
    let peak = base
    const sample = (): void => { peak = Math.max(peak, process.memoryUsage().rss) }
    const timer = setInterval(sample, 20)
    const out = join(files, 'big-out.raw')
    let manifest
    try {
      const imported = await importImage({ file: path, name: 'big', version: 'v1', blockstore: node.blockstore, catalog: node.catalog, key: node.key, blockSize: 64 * 1024, onProgress: sample })
      manifest = imported.manifest
      assert.equal(imported.stats.blocks, 32768)
      assert.ok(imported.stats.holes > 32768 - 6 * 16 * 4 - 8)
      await exportImage({ manifest, blockstore: node.blockstore, file: out, onProgress: sample })
      sample()
    } finally {
      clearInterval(timer)
    }
    assert.equal((await stat(out)).size, size)
    assert.ok(await allocatedBytes(out) < 64 * MiB, 'export is sparse')
    assert.equal(await sha256File(out), await sha256File(path))
    const growth = peak - base
    t.diagnostic(`rss growth ${(growth / MiB).toFixed(1)} MiB`)
    // The manifest of 32768 entries is ~1.3 MB; buffers are at most 16 MiB. Reading the file whole would add 2 GiB.
    assert.ok(growth < 64 * MiB, `rss grew by ${(growth / MiB).toFixed(1)} MiB`)
  })
})
