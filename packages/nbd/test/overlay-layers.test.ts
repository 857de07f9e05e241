import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createOverlay, DeviceError, freezeOverlay, OverlayFrozenError, readOverlayChunks, type BlockDevice } from '../src/index.js'

const SIZE = 1024 * 1024
const base: BlockDevice = { size: SIZE, read: async (_offset, length) => new Uint8Array(length).fill(7) }

describe('overlay layers (clones of clones)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'cc-nbd-layers-'))
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('a frozen overlay opens read-only only; a clone on it writes apart from it', async () => {
    const a = await createOverlay({ dir: join(dir, 'a'), base, baseId: 'v1' })
    await a.write(70_000, new Uint8Array(10).fill(1))
    assert.deepEqual(a.chunkIndexes(), [1])
    await a.close()
    assert.deepEqual(await readOverlayChunks(join(dir, 'a')), [1])
    await freezeOverlay(join(dir, 'a'))
    await assert.rejects(createOverlay({ dir: join(dir, 'a'), base, baseId: 'v1' }), OverlayFrozenError)
    const mapBefore = await readFile(join(dir, 'a', 'map'))

    const layer = await createOverlay({ dir: join(dir, 'a'), base, baseId: 'v1', readOnly: true })
    await assert.rejects(layer.write(0, new Uint8Array(1)), DeviceError)
    const b = await createOverlay({ dir: join(dir, 'b'), base: layer, baseId: 'v1', parent: 'a' })
    await b.write(69_995, new Uint8Array(10).fill(2))
    const got = await b.read(69_990, 30)
    // b's write over a's: 7 from the version, 2 from b, 1 from a where b did not write, then 7
    assert.deepEqual([...got], [...Array(5).fill(7), ...Array(10).fill(2), ...Array(5).fill(1), ...Array(10).fill(7)])
    assert.deepEqual([...(await layer.read(69_995, 10))], [7, 7, 7, 7, 7, 1, 1, 1, 1, 1])
    await b.close()
    await layer.close()
    assert.deepEqual(await readFile(join(dir, 'a', 'map')), mapBefore)
    assert.deepEqual(await readOverlayChunks(join(dir, 'b')), [1])
    assert.equal(JSON.parse(await readFile(join(dir, 'b', 'meta.json'), 'utf8')).parent, 'a')
  })

  it('a read-only open of a missing overlay creates nothing', async () => {
    await assert.rejects(createOverlay({ dir: join(dir, 'none'), base, baseId: 'v1', readOnly: true }), { code: 'ENOENT' })
  })
})
