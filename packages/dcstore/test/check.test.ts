import assert from 'node:assert/strict'
import { mkdir, mkdtemp, open, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { createDcStore, STORE_FILES, type CheckReport } from '../src/index.js'
import { buildStore } from './build-store.js'

describe('dcstore check', () => {
  let dir: string
  let path: string
  const check = async (options: Parameters<ReturnType<typeof createDcStore>['check']>[0] = {}): Promise<CheckReport> => {
    const store = createDcStore({ path, create: false })
    await store.start()
    try { return await store.check(options) } finally { await store.stop() }
  }
  const packOf = async (user: string): Promise<string> => {
    const packs = (await readdir(join(path, STORE_FILES.blocks, user, 'packs'))).sort()
    return join(path, STORE_FILES.blocks, user, 'packs', packs[0])
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-check-'))
    path = join(dir, 'store')
    await mkdir(path)
  })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('a healthy store checks clean, with and without reading the data', async () => {
    await buildStore(path, ['alice', 'bob'])
    const quick = await check()
    assert.equal(quick.ok, true, JSON.stringify(quick.damage))
    assert.equal(quick.users, 2)
    assert.equal(quick.snapshots, 4)
    assert.ok(quick.referencedBlocks >= 2 * (7 + 100 + 2), String(quick.referencedBlocks)) // records, roots, files, sub, the paged directory's top, pages and files
    assert.equal(quick.readBlocks, 0)
    const progress: number[] = []
    const full = await check({ readData: true, onProgress: e => { progress.push(e.doneBytes) } })
    assert.equal(full.ok, true, JSON.stringify(full.damage))
    assert.ok(full.readBytes > 2 * 700_000, String(full.readBytes))
    assert.equal(progress.at(-1), full.readBytes)
  })

  it('finds corrupt pack bytes (reading the data), a deleted pack and a truncated index log, and names the users and snapshots they affect', async () => {
    const snaps = await buildStore(path, ['alice', 'bob', 'carol', 'dave'])
    // alice: one byte flipped inside a pack, in the middle of block data
    const alicePack = await packOf('alice')
    const size = (await stat(alicePack)).size
    const fh = await open(alicePack, 'r+')
    const at = Math.floor(size / 2)
    const b = Buffer.alloc(1)
    await fh.read(b, 0, 1, at)
    b[0] ^= 0x55
    await fh.write(b, 0, 1, at)
    await fh.close()
    // bob: his pack deleted
    await rm(await packOf('bob'))
    // carol: the last 20 bytes of her index log cut off
    const carolLog = join(path, STORE_FILES.blocks, 'carol', 'index.log')
    await truncate(carolLog, (await stat(carolLog)).size - 20)

    const quick = await check()
    assert.equal(quick.ok, false)
    const kinds = (r: CheckReport, user: string): string[] => r.damage.filter(d => d.user === user).map(d => d.kind).sort()
    assert.deepEqual(kinds(quick, 'bob'), ['pack-missing'])
    assert.match(quick.damage.find(d => d.user === 'bob')!.message, /^packs\/00000001\.pack is missing: \d+ indexed blocks lost$/)
    assert.deepEqual(kinds(quick, 'carol'), ['block-missing', 'index-log'])
    assert.deepEqual(kinds(quick, 'dave'), [])
    assert.deepEqual(quick.affected.filter(a => a.user === 'bob').map(a => a.snapshot).sort(), [...snaps.bob].sort())
    assert.ok(quick.affected.some(a => a.user === 'carol'))
    assert.ok(!quick.affected.some(a => a.user === 'dave'))

    const full = await check({ readData: true })
    assert.deepEqual(kinds(full, 'alice'), ['block-corrupt'])
    const corrupt = full.damage.find(d => d.user === 'alice')!
    assert.equal(corrupt.blocks, 1)
    assert.equal(corrupt.cids.length, 1)
    const aliceAffected = full.affected.filter(a => a.user === 'alice').map(a => a.snapshot)
    assert.ok(aliceAffected.length >= 1 && aliceAffected.every(s => snaps.alice.includes(s)))
    assert.deepEqual(kinds(full, 'dave'), [])
    // nothing was repaired or cut by the check: the damage is still there to see
    assert.deepEqual(kinds(await check(), 'carol'), ['block-missing', 'index-log'])
  })

  it('reads a subset of packs: n/m parts cover every pack once', async () => {
    await buildStore(path, ['alice', 'bob'], undefined, 256 * 1024)
    assert.ok((await readdir(join(path, STORE_FILES.blocks, 'alice', 'packs'))).length >= 3)
    const all = await check({ readData: true })
    assert.equal(all.ok, true, JSON.stringify(all.damage))
    const parts = [await check({ readData: true, subset: { n: 1, m: 2 } }), await check({ readData: true, subset: { n: 2, m: 2 } })]
    assert.ok(parts[0].readBytes > 0 && parts[1].readBytes > 0)
    assert.equal(parts[0].readBytes + parts[1].readBytes, all.readBytes)
    assert.equal(parts[0].readBlocks + parts[1].readBlocks, all.readBlocks)
    const none = await check({ readData: true, subset: { percent: 0 } })
    assert.equal(none.readBlocks, 0)
    const every = await check({ readData: true, subset: { percent: 100 } })
    assert.equal(every.readBytes, all.readBytes)
  })

  it('refuses to run while another process holds the store (serve)', async () => {
    await buildStore(path, ['alice'])
    await writeFile(join(path, STORE_FILES.lock), `${process.ppid}\n`)
    await assert.rejects(check(), { name: 'StoreInUseError' })
  })
})
