import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createPersonalFolder, generateX25519KeyPair, type PersonalFolder } from '../src/index.js'
import { tempDir, treeHashes } from './helpers.js'

// CI size: 5,000 files. The 50,000 files / 2 GiB run is bench/src/personal.ts.
const DIRS = 50
const PER_DIR = 100
// A directory's page cuts are keyed by the user key (personal-format's pages.test.ts holds the rule for any key), so
// with a random key the cost of one insertion into dir7 ranged over runs from 2.5 to 16.7 KB, against 18-23 KB for
// re-sealing the whole directory: no byte bound was both safe and meaningful. With this key dir7 has six pages and
// every figure below is the same on every run.
const USER_KEY = createHash('sha256').update('personal many-files test a').digest()

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
    sync = createPersonalFolder({ user: 'bob', folder, stateDir: join(dir.path, 'state'), blockstore, node: 'node-b', discoveryKey: generateX25519KeyPair().publicKey, watch: false, userKey: USER_KEY })
  })

  after(async () => {
    await blockstore.stop()
    await dir.cleanup()
  })

  it('snapshots 5,000 files; an unchanged rescan reads none; one edit re-reads one; an insertion re-seals one page; restore is exact', async () => {
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

    // an insertion in a paged directory re-seals the one page it lands in (with this key the new name ends no page),
    // not the directory's six
    await writeFile(join(folder, 'dir7', 'file3a.dat'), 'inserted')
    const inserted = await sync.snapshot()
    assert.equal(inserted.stats.newBlocks, 5)
    assert.equal(inserted.stats.sealedDirs, 2)

    // what re-sealing all of dir7 costs, in the same store: every entry's mtime changes, no content does
    const later = new Date(Date.now() + 10_000)
    for (let f = 0; f < PER_DIR; f++) await utimes(join(folder, 'dir7', `file${f}.dat`), later, later)
    const touched = await sync.snapshot()
    assert.equal(touched.stats.hashedFiles, PER_DIR)
    assert.equal(touched.stats.newBlocks, 9) // dir7's six pages and top block, the root's page and top block
    assert.ok(inserted.stats.newBytes < touched.stats.newBytes / 2,
      `the insertion wrote ${inserted.stats.newBytes} bytes; re-sealing the whole directory wrote ${touched.stats.newBytes}`)

    const out = join(dir.path, 'out')
    await sync.restore('', { to: out })
    assert.deepEqual(await treeHashes(out), await treeHashes(folder))
  })
})
