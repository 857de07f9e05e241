import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import type { CID } from 'multiformats/cid'
import {
  BLOCKSTORE_VERSION_TEXT, BlockCorruptError, BlockstoreFormatError, createBlockstore, type Blockstore, type BlockstoreInit
} from '../src/index.js'
import { blockstoreSuite } from './blockstore-suite.js'
import { allRecords, packFiles, scanPack, tempDir, rawStats } from './helpers.js'

blockstoreSuite('pack', async () => createBlockstore({ path: await tempDir() }))
blockstoreSuite('pack (tiny packs)', async () => createBlockstore({ path: await tempDir(), packBytes: 4096 }))

async function started (path: string, init: Partial<BlockstoreInit> = {}): Promise<Blockstore> {
  const store = createBlockstore({ ...init, path })
  await store.start()
  return store
}

describe('pack block store layout', () => {
  it('writes VERSION, packs/<id>.pack records as specified and index.log', async () => {
    const root = await tempDir()
    const store = await started(root)
    assert.equal(await readFile(join(root, 'VERSION'), 'utf8'), 'cachecloud-blockstore 3\n')
    assert.equal(BLOCKSTORE_VERSION_TEXT, 'cachecloud-blockstore 3\n')
    const blocks = [randomBytes(1234), randomBytes(0), randomBytes(70_000)]
    const cids: CID[] = []
    for (const bytes of blocks) cids.push((await store.putBytes(bytes)).cid)
    await store.sync()
    assert.deepEqual(await readdir(join(root, 'packs')), ['00000001.pack'])
    const pack = await readFile(join(root, 'packs', '00000001.pack'))
    const { records, end } = scanPack(pack)
    assert.equal(end, pack.byteLength)
    assert.deepEqual(records.map(r => r.cid.toString()), cids.map(c => c.toString()))
    records.forEach((r, i) => { assert.deepEqual(pack.subarray(r.dataOffset, r.end), blocks[i]) })
    assert.ok((await stat(join(root, 'index.log'))).size > 0)
    await store.stop()
  })

  it('keeps blocks across stop and start, and resumes the last pack', async () => {
    const root = await tempDir()
    let store = await started(root)
    const bytes = randomBytes(5000)
    const { cid } = await store.putBytes(bytes)
    await store.stop()
    store = await started(root)
    assert.deepEqual(Buffer.from(await store.get(cid)), bytes)
    assert.equal((await store.putBytes(bytes)).written, false)
    const other = await store.putBytes(randomBytes(100))
    await store.stop()
    store = await started(root)
    assert.equal((await packFiles(root)).length, 1)
    assert.equal((await store.get(other.cid)).byteLength, 100)
    assert.deepEqual(await rawStats(store), { blocks: 2, bytes: 5100 })
    await store.stop()
  })

  it('rolls over to a new pack before one would exceed packBytes', async () => {
    const root = await tempDir()
    const store = await started(root, { packBytes: 64 * 1024 })
    for (let i = 0; i < 10; i++) await store.putBytes(randomBytes(20_000))
    await store.sync()
    const files = await packFiles(root)
    assert.equal(files.length, 4) // 3 records of 20,054 bytes per pack
    for (const file of files) assert.ok((await stat(file)).size <= 64 * 1024)
    assert.equal((await allRecords(root)).length, 10)
    await store.stop()
  })

  it('merges concurrent puts into one write and has() sees them before sync', async () => {
    const root = await tempDir()
    const store = await started(root)
    const blocks = Array.from({ length: 16 }, () => randomBytes(10_000))
    const results = await Promise.all(blocks.map(async bytes => await store.putBytes(bytes)))
    for (const { cid } of results) assert.equal(await store.has(cid), true)
    await store.stop()
  })

  it('refuses a format-1 store, an unknown version, and a foreign directory', async () => {
    const root = await tempDir()
    await (await started(root)).stop()
    await writeFile(join(root, 'VERSION'), 'cachecloud-blockstore 1\n')
    await assert.rejects(started(root), (err: Error) => err instanceof BlockstoreFormatError && /format-1 block store \(one file per block\)/.test(err.message) && !err.message.includes('\n'))
    await writeFile(join(root, 'VERSION'), 'cachecloud-blockstore 9\n')
    await assert.rejects(started(root), { code: 'ERR_BLOCKSTORE_FORMAT' })
    const foreign = await tempDir()
    await mkdir(join(foreign, 'blocks'))
    await assert.rejects(started(foreign), BlockstoreFormatError)
  })
})

describe('pack block store gc', () => {
  it('frees the pack still being appended to when nothing in it is live (a failed import), and appends go on in a new pack', async () => {
    const root = await tempDir()
    const store = await started(root)
    for (let i = 0; i < 8; i++) await store.putBytes(randomBytes(100_000))
    await store.sync()
    assert.equal((await packFiles(root)).length, 1)
    const result = await store.gc(() => false)
    assert.equal(result.removed, 8)
    assert.deepEqual(await packFiles(root), [], 'the space gc reports is freed on disk')
    const { cid } = await store.putBytes(randomBytes(1000))
    assert.equal((await store.get(cid)).byteLength, 1000)
    await store.stop()
    const again = await started(root)
    assert.equal((await again.get(cid)).byteLength, 1000)
    await again.stop()
  })

  it('deletes packs without live blocks and repacks sparse ones, crash-safely committed', async () => {
    const root = await tempDir()
    let store = await started(root, { packBytes: 100_000 })
    const blocks = Array.from({ length: 12 }, () => randomBytes(30_000)) // 3 per pack -> 4 packs
    const cids: CID[] = []
    for (const bytes of blocks) cids.push((await store.putBytes(bytes)).cid)
    await store.sync()
    assert.equal((await packFiles(root)).length, 4)
    // pack 1: all dead; pack 2: one of three live (repacked); packs 3, 4: all live (kept)
    const live = new Set([4, 6, 7, 8, 9, 10, 11].map(i => cids[i]?.toString()))
    const result = await store.gc(cid => live.has(cid.toString()))
    assert.deepEqual(result, { removed: 5, kept: 7, freedBytes: 150_000 })
    const files = (await packFiles(root)).map(f => f.slice(-13))
    assert.ok(!files.includes('00000001.pack') && !files.includes('00000002.pack'), files.join())
    assert.equal((await allRecords(root)).filter(r => live.has(r.cid.toString())).length, 7)
    await store.stop()
    store = await started(root)
    for (let i = 0; i < 12; i++) {
      if (live.has(cids[i]?.toString())) assert.deepEqual(Buffer.from(await store.get(cids[i]!)), blocks[i])
      else assert.equal(await store.has(cids[i]!), false)
    }
    assert.deepEqual(await rawStats(store), { blocks: 7, bytes: 210_000 })
    await store.stop()
  })
})

describe('pack block store corruption', () => {
  it('get of a block with a flipped byte throws BlockCorruptError and drops the block, durably', async () => {
    const root = await tempDir()
    let store = await started(root)
    const bytes = randomBytes(262_144)
    const { cid } = await store.putBytes(bytes)
    const other = await store.putBytes(randomBytes(1000))
    await store.sync()
    const record = (await allRecords(root)).find(r => r.cid.equals(cid))
    assert.ok(record !== undefined)
    const pack = await readFile(record.file)
    pack[record.dataOffset + 1000] ^= 0x40
    await writeFile(record.file, pack)
    assert.equal(await store.has(cid), true) // not read yet: has() trusts committed entries
    await assert.rejects(store.get(cid), BlockCorruptError)
    assert.equal(await store.has(cid), false)
    await assert.rejects(store.get(cid), { code: 'ERR_BLOCK_NOT_FOUND' })
    assert.deepEqual(await rawStats(store), { blocks: 1, bytes: 1000 })
    assert.equal((await store.get(other.cid)).byteLength, 1000)
    await store.stop()
    store = await started(root)
    assert.equal(await store.has(cid), false)
    // A good copy from a peer can be stored again.
    assert.equal(await store.put(cid, bytes), true)
    assert.deepEqual(Buffer.from(await store.get(cid)), bytes)
    await store.stop()
  })

  it('a block whose pack was cut short is dropped at start', async () => {
    const root = await tempDir()
    let store = await started(root)
    const a = await store.putBytes(randomBytes(4096))
    const b = await store.putBytes(randomBytes(4096))
    await store.stop()
    const record = (await allRecords(root)).find(r => r.cid.equals(b.cid))
    assert.ok(record !== undefined)
    const { truncate } = await import('node:fs/promises')
    await truncate(record.file, record.end - 10)
    store = await started(root)
    assert.equal(await store.has(b.cid), false)
    assert.equal((await store.get(a.cid)).byteLength, 4096)
    assert.deepEqual(await rawStats(store), { blocks: 1, bytes: 4096 })
    await store.stop()
  })

  it('an index log damaged in its last commit loses nothing that the packs still hold whole', async () => {
    const root = await tempDir()
    let store = await started(root)
    const cids: CID[] = []
    for (let i = 0; i < 5; i++) cids.push((await store.putBytes(randomBytes(3000 + i))).cid)
    await store.sync()
    await store.stop()
    const log = await readFile(join(root, 'index.log'))
    log[log.byteLength - 5] ^= 1
    await writeFile(join(root, 'index.log'), log)
    store = await started(root)
    for (const cid of cids) assert.equal(await store.has(cid), true)
    const recovery = (store as unknown as { lastRecovery: { salvaged: number, droppedLogBytes: number } }).lastRecovery
    assert.equal(recovery.salvaged, 5)
    assert.ok(recovery.droppedLogBytes > 0)
    assert.equal(cidOf(await store.get(cids[0]!)).equals(cids[0]!), true)
    await store.stop()
  })
})
