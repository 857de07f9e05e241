import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { readdir, readFile, stat, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeExt4Image, sha256File } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'

// Issue 13, item 2: a pack cut short while the daemon was down used to leave the version "complete",
// advertised, and unrepairable by a pull ("0 blocks fetched, all held").
describe('a block store damaged while the daemon was down (real daemons)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let imageFile: string

  before(async () => {
    cluster = await createTestCluster('damaged')
    imageFile = join(cluster.dir, 'os.raw')
    await makeExt4Image({ path: imageFile, sizeMiB: 256, seed: 'damaged-store', fill: 0.6 })
    a = await cluster.start('a')
  })
  after(async () => { await cluster.close() })

  it('marks the version incomplete (logged), stops calling it complete, and a pull fetches exactly what was lost', async () => {
    const imported = await a.client.importImage({ file: imageFile, name: 'os', version: 'v1' }, () => {})
    const b = await cluster.start('b', { trustedPublishers: [a.publisherKey] })
    await b.client.pull({ ref: 'os@v1', from: [a.address] }, () => {})
    await b.stop()

    const packs = join(cluster.dir, 'b', 'store', 'packs')
    const [first] = (await readdir(packs)).filter(f => f.endsWith('.pack')).sort()
    assert.ok(first !== undefined)
    const size = (await stat(join(packs, first))).size
    await truncate(join(packs, first), Math.floor(size / 2))

    const again = await cluster.restart('b')
    const [entry] = await again.client.images()
    assert.equal(entry?.state, 'pulling', 'a version that lost blocks is no longer complete')
    const log = await readFile(join(cluster.dir, 'b', 'daemon.log'), 'utf8')
    assert.match(log, /os@v1 lost \d+ blocks? from the block store: marked incomplete/)
    await assert.rejects(again.client.exportImage({ ref: 'os@v1', file: join(cluster.dir, 'early.raw') }, () => {}),
      (err: Error & { code?: string }) => err.code === 'ERR_VERSION_INCOMPLETE')
    const repaired = await again.client.pull({ ref: 'os@v1', from: [a.address] }, () => {})
    assert.ok(repaired.fetchedBlocks > 0, 'the lost blocks are fetched again')
    assert.equal(repaired.fetchedBlocks + repaired.heldBlocks, imported.newBlocks, 'exactly the missing ones')
    const out = join(cluster.dir, 'b.raw')
    await again.client.exportImage({ ref: 'os@v1', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(imageFile))
  })
})
