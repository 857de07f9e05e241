import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createPersonalFolder, generateX25519KeyPair, type PersonalFolder } from '../src/index.js'
import { tempDir, treeHashes } from './helpers.js'

// CI size: 5,000 files. The 50,000 files / 2 GiB run is bench/src/personal.ts.
const DIRS = 50
const PER_DIR = 100

function bytesFor (i: number): Buffer {
  const size = 500 + (i * 7919) % 12_000
  return createCipheriv('aes-256-ctr', createHash('sha256').update(String(i)).digest(), Buffer.alloc(16)).update(Buffer.alloc(size))
}

describe('personal sync: many files', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let blockstore: Blockstore
  let sync: PersonalFolder
  let folder: string

  before(async () => {
    dir = await tempDir('personal-many-')
    folder = join(dir.path, 'home')
    for (let d = 0; d < DIRS; d++) {
      await mkdir(join(folder, `dir${d}`), { recursive: true })
      await Promise.all(Array.from({ length: PER_DIR }, async (_, f) => { await writeFile(join(folder, `dir${d}`, `file${f}.dat`), bytesFor(d * PER_DIR + f)) }))
    }
    blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
    sync = createPersonalFolder({ user: 'bob', folder, stateDir: join(dir.path, 'state'), blockstore, node: 'node-b', discoveryKey: generateX25519KeyPair().publicKey, watch: false })
  })

  after(async () => {
    await blockstore.stop()
    await dir.cleanup()
  })

  it('snapshots 5,000 files; an unchanged rescan reads none; one edit re-reads one; restore is exact', async () => {
    const heapBefore = process.memoryUsage().heapUsed
    const first = await sync.snapshot()
    assert.equal(first.files, DIRS * PER_DIR)
    assert.equal(first.stats.hashedFiles, DIRS * PER_DIR)
    const heapGrowth = process.memoryUsage().heapUsed - heapBefore
    assert.ok(heapGrowth < 256 * 1024 * 1024, `heap grew ${heapGrowth} bytes`)

    const rescan = await sync.snapshot()
    assert.equal(rescan.created, false)
    assert.equal(rescan.stats.hashedFiles, 0)
    assert.equal(rescan.stats.hashedBytes, 0)
    assert.equal(rescan.stats.sealedDirs, 0)

    await writeFile(join(folder, 'dir7', 'file3.dat'), 'changed')
    const edited = await sync.snapshot()
    assert.equal(edited.created, true)
    assert.equal(edited.stats.hashedFiles, 1)
    // new: the file's chunk, and for its directory and the root (both paged) one page and the top block
    assert.equal(edited.stats.newBlocks, 5)
    assert.equal(edited.stats.sealedDirs, 2) // dir7 and the root; the 49 other directories come from the cache

    // an insertion in a paged directory re-seals one page (two if the new name ends a page), not the directory's
    // six or so; one more where a page reaches 64 entries without a cut (the page rule: personal-format's pages.test.ts)
    await writeFile(join(folder, 'dir7', 'file3a.dat'), 'inserted')
    const inserted = await sync.snapshot()
    assert.ok(inserted.stats.newBlocks >= 5 && inserted.stats.newBlocks <= 7, `${inserted.stats.newBlocks} new blocks`)
    assert.ok(inserted.stats.newBytes < 16 * 1024, `${inserted.stats.newBytes} new bytes for a 100-file directory`)

    const out = join(dir.path, 'out')
    await sync.restore('', { to: out })
    assert.deepEqual(await treeHashes(out), await treeHashes(folder))
  })
})
