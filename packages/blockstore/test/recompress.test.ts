import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { open, readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { CODEC_RAW, CODEC_ZSTD } from '@cachecloud/codec'
import { createBlockstore, type LocalBlockstore } from '../src/index.js'
import { textLikeBytes } from '@cachecloud/test-utils'
import { allRecords, tempDir } from './helpers.js'

async function started (path: string, compressionLevel = 1): Promise<LocalBlockstore> {
  // small packs (a text block takes 11 KB at level 1): the records recompression leaves behind fill packs of their own, which gc deletes
  const store = createBlockstore({ path, compressionLevel, packBytes: 64 * 1024 })
  await store.start()
  return store
}

/** The nice value of each thread of this process (Linux: /proc/self/task/<tid>/stat, field 19). */
async function threadNiceValues (): Promise<number[]> {
  const tasks = await readdir('/proc/self/task')
  const values: number[] = []
  for (const tid of tasks) {
    const stat = await readFile(join('/proc/self/task', tid, 'stat'), 'latin1').catch(() => undefined)
    if (stat === undefined) continue
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    values.push(Number(fields[16]))
  }
  return values
}

describe('block store: recompression at rest', () => {
  it('keeps blocks stored at level 1 at level 19 where smaller; reads stay exact, before and after a restart; gc reclaims the old records', async () => {
    const root = await tempDir()
    const store = await started(root)
    const blocks = Array.from({ length: 8 }, (_, i) => textLikeBytes(i + 1))
    const random = randomBytes(256 * 1024)
    const cids = []
    for (const b of [...blocks, random]) cids.push((await store.putBytes(b)).cid)
    await store.sync()
    const before = await store.stats()

    const absent = cidOf(Buffer.from('never stored'))
    let progress = 0
    const result = await store.recompress([...cids, cids[0], absent], { level: 19, onProgress: (done) => { progress = done } })
    assert.equal(result.examined, 8, 'each distinct block held once, but the one stored raw')
    assert.equal(result.missing, 1)
    assert.equal(result.corrupt, 0)
    assert.equal(result.rewritten, 8, 'the text blocks shrank; the random one did not')
    assert.equal(progress, 10)
    const after = await store.stats()
    assert.equal(after.blocks, before.blocks)
    assert.equal(after.bytes, before.bytes)
    assert.equal(after.storedBytes, before.storedBytes - result.savedBytes)
    assert.ok(result.savedBytes > before.storedBytes * 0.05, `saved ${result.savedBytes} of ${before.storedBytes} bytes`)
    for (const [i, b] of [...blocks, random].entries()) assert.deepEqual(Buffer.from(await store.get(cids[i])), b)
    assert.equal((await store.getEncoded(cids[8])).codec, CODEC_RAW)
    assert.equal((await store.getEncoded(cids[0])).codec, CODEC_ZSTD)

    const again = await store.recompress(cids, { level: 19, includeRaw: true })
    assert.equal(again.examined, 9, 'includeRaw: the raw block too')
    assert.equal(again.rewritten, 0, 'a block already at its best form is not rewritten')
    await store.stop()

    const reopened = await started(root)
    assert.equal((await reopened.stats()).storedBytes, after.storedBytes, 'the moves were committed')
    for (const [i, b] of [...blocks, random].entries()) assert.deepEqual(Buffer.from(await reopened.get(cids[i])), b)
    await reopened.gc(() => true)
    const recordsAfter = (await allRecords(root)).length
    // a pack left holding only old records is deleted (at the restart, or by gc), one mostly dead is repacked
    assert.ok(recordsAfter <= 9 + 3, `the packs of old records were reclaimed (${recordsAfter} records left)`)
    for (const [i, b] of [...blocks, random].entries()) assert.deepEqual(Buffer.from(await reopened.get(cids[i])), b)
    await reopened.stop()
  })

  it('leaves a block whose record was damaged on disk as it is, counted, for reads and verify to drop', async () => {
    const root = await tempDir()
    const store = await started(root)
    const good = await store.putBytes(textLikeBytes(40))
    const bad = await store.putBytes(textLikeBytes(41))
    await store.stop()
    const records = await allRecords(root)
    const victim = records.find(r => r.cid.equals(bad.cid))
    assert.ok(victim !== undefined)
    const handle = await open(victim.file, 'r+')
    await handle.write(Buffer.from([0xff, 0x00, 0xff, 0x00]), 0, 4, victim.dataOffset + 100)
    await handle.close()
    const reopened = await started(root)
    const result = await reopened.recompress([good.cid, bad.cid], { level: 19 })
    assert.equal(result.rewritten, 1)
    assert.equal(result.corrupt, 1)
    await assert.rejects(reopened.get(bad.cid), /corrupt/)
    assert.deepEqual(Buffer.from(await reopened.get(good.cid)), textLikeBytes(40))
    await reopened.stop()
  })

  it('works on a thread at the lowest priority (nice 19), not on the calling thread', async () => {
    const root = await tempDir()
    const store = await started(root)
    const cids = []
    for (let i = 0; i < 24; i++) cids.push((await store.putBytes(textLikeBytes(100 + i))).cid)
    assert.ok(!(await threadNiceValues()).includes(19), 'no thread at nice 19 before')
    let seen = false
    const run = store.recompress(cids, { level: 19, onProgress: () => { if (!seen) void threadNiceValues().then(v => { seen ||= v.includes(19) }) } })
    await run
    assert.ok(seen || (await threadNiceValues()).includes(19), 'a thread at nice 19 while recompressing')
    assert.equal((await threadNiceValues()).filter(v => v === 19).length, 1, 'one background thread')
    await store.stop()
  })
})
