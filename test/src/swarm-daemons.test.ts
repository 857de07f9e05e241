import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { copyFile, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeExt4Image, sha256File, updateImage } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'
import { waitFor } from '@cachecloud/test-utils'

/** Publish/subscribe and plan through real daemons and their control API (the CLI's calls). */
describe('swarm through real daemons', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let b: LaunchedCachePoint
  let v1File: string

  before(async () => {
    cluster = await createTestCluster('swarm-daemons')
    v1File = join(cluster.dir, 'v1.raw')
    await makeExt4Image({ path: v1File, sizeMiB: 64, seed: 'swarm-daemons' })
    a = await cluster.start('a')
    b = await cluster.start('b', { trustedPublishers: [a.publisherKey], peers: [a.address] })
  })

  after(async () => { await cluster.close() })

  it('a subscriber pulls a published version on its own; the subscription is kept in its config', async () => {
    const subs = await b.client.subscribe('os', 'auto')
    assert.deepEqual(subs, [{ name: 'os', policy: 'auto' }])
    const config = JSON.parse(await readFile(join(b.dataDir, 'config.json'), 'utf8')) as { subscriptions?: unknown }
    assert.deepEqual(config.subscriptions, [{ name: 'os', policy: 'auto' }])
    await a.client.importImage({ file: v1File, name: 'os', version: 'v1' }, () => {})
    await waitFor(async () => (await b.client.status()).connections > 0, { timeoutMs: 60_000, intervalMs: 200 })
    await a.client.publish('os@v1')
    await waitFor(async () => (await b.client.images()).some(v => v.version === 'v1' && v.state === 'complete'), { timeoutMs: 60_000, intervalMs: 200 })
    const out = join(cluster.dir, 'b-v1.raw')
    await b.client.exportImage({ ref: 'os@v1', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(v1File))
    const swarm = await b.client.swarmStatus()
    const pull = swarm.pulls.find(p => p.ref === 'os@v1')
    assert.equal(pull?.state, 'complete')
    assert.equal(pull?.blocksDone, pull?.blocksTotal)
    assert.ok((pull?.peers.length ?? 0) >= 1)
  })

  it('plan shows the delta before anything moves, and the unsubscribed node does not pull', async () => {
    await b.client.unsubscribe('os')
    const v2File = join(cluster.dir, 'v2.raw')
    await copyFile(v1File, v2File)
    await updateImage(v2File, { seed: 'swarm-daemons-v2', changedFiles: 4, newFiles: 2, newBytes: 1024 * 1024 })
    const imported = await a.client.importImage({ file: v2File, name: 'os', version: 'v2' }, () => {})
    await a.client.publish('os@v2')
    const plan = await b.client.plan('os@v2')
    assert.equal(plan.missingBlocks, imported.newBlocks)
    assert.equal(plan.missingBytes, imported.newBytes)
    assert.equal(plan.wanRawBytes, imported.newBytes, 'no site configured: every peer is WAN')
    assert.ok(plan.wanBytes > 0 && plan.wanBytes <= imported.newBytes, 'what crosses the WAN, as the seed stores it (compressed where that paid)')
    assert.equal(plan.lanBytes, 0)
    await new Promise(resolve => setTimeout(resolve, 1000))
    assert.ok(!(await b.client.images()).some(v => v.version === 'v2'), 'not subscribed any more')
  })
})
