import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { copyFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { RemoteError } from '@cachecloud/control'
import { e2fsckOk, makeExt4Image, runOk, sha256File, updateImage } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'

/**
 * Two real CachePoint daemons on 127.0.0.1 moving a real ext4 image and then
 * only the changed blocks of its next version.
 */
describe('two CachePoints on loopback', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let b: LaunchedCachePoint
  let v1File: string
  let v2File: string

  before(async () => {
    cluster = await createTestCluster('two-nodes')
    v1File = join(cluster.dir, 'v1.raw')
    await makeExt4Image({ path: v1File, sizeMiB: 256, seed: 'two-nodes', fill: 0.5 })
    a = await cluster.start('a')
    b = await cluster.start('b', { trustedPublishers: [a.publisherKey] })
  })

  after(async () => { await cluster.close() })

  it('pulls v1 and exports it bit-identical (SHA-256 equal)', async () => {
    const imported = await a.client.importImage({ file: v1File, name: 'os', version: 'v1' }, () => {})
    assert.ok(imported.holes > 0, 'a half-empty ext4 image has all-zero blocks')
    const pulled = await b.client.pull({ ref: 'os@v1', from: [a.address] }, () => {})
    assert.equal(pulled.cid, imported.cid)
    assert.equal(pulled.fetchedBlocks, imported.newBlocks)
    assert.equal(pulled.fetchedBytes, imported.newBytes, 'exactly the non-hole distinct blocks travel')
    const out = join(cluster.dir, 'b-v1.raw')
    await b.client.exportImage({ ref: 'os@v1', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(v1File))
    const [version] = await b.client.images()
    assert.equal(version.state, 'complete')
  })

  it('pulls v2 as a delta: bytes moved within 5% of the changed blocks', async () => {
    v2File = join(cluster.dir, 'v2.raw')
    await copyFile(v1File, v2File)
    const update = await updateImage(v2File, { seed: 'two-nodes-v2', changedFiles: 10, newFiles: 4, newBytes: 4 * 1024 * 1024 })
    assert.ok(update.writtenBytes > 1024 * 1024)
    await a.client.importImage({ file: v2File, name: 'os', version: 'v2' }, () => {})
    const diff = await a.client.diff('os@v1', 'os@v2')
    assert.ok(diff.fetchBytes > 0 && diff.fetchBytes < 0.25 * 256 * 1024 * 1024, `delta of ${diff.fetchBytes} bytes is a small part of the image`)
    const pulled = await b.client.pull({ ref: 'os@v2', from: [a.address] }, () => {})
    assert.equal(pulled.fetchedBytes, diff.fetchBytes, 'only blocks B lacks are fetched')
    assert.ok(pulled.wireBytes <= 1.05 * diff.fetchBytes, `wire bytes ${pulled.wireBytes} within 5% of changed blocks' ${diff.fetchBytes}`)
    const out = join(cluster.dir, 'b-v2.raw')
    await b.client.exportImage({ ref: 'os@v2', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(v2File))
    assert.ok(await e2fsckOk(out), 'the exported v2 is a clean ext4 filesystem')
    // qemu-img reads the export as a hypervisor would, holes included, and compares it with the original.
    await runOk('qemu-img', ['compare', '-f', 'raw', '-F', 'raw', v2File, out])
  })

  it('refuses a manifest from a publisher it does not trust, storing nothing', async () => {
    const stranger = await cluster.start('stranger')
    await assert.rejects(stranger.client.pull({ ref: 'os@v1', from: [a.address] }, () => {}),
      (err: RemoteError) => err.code === 'ERR_UNTRUSTED_PUBLISHER' && /not a trusted publisher/.test(err.message))
    assert.deepEqual(await stranger.client.images(), [])
    assert.equal((await stranger.client.status()).store.blocks, 0)
  })
})
