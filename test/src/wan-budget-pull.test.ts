import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeSparseImage } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'

// Issue 13, item 4: `cachepoint image pull` from a peer of another site moved 38.7 MiB/s on a branch
// node whose WAN budget was 8 Mbit/s: the budget applied only to swarm pulls.
describe('a direct pull from another site is charged to the WAN budget (real daemons)', () => {
  let cluster: TestCluster
  let dc: LaunchedCachePoint & { publisherKey: string }

  before(async () => {
    cluster = await createTestCluster('wan-pull')
    dc = await cluster.start('dc', { swarm: { site: 'dc' } })
  })
  after(async () => { await cluster.close() })

  it('4 MiB of incompressible blocks at 8 Mbit/s take at least 3 s; from the node\'s own site, no limit', async () => {
    const file = join(cluster.dir, 'random.raw')
    await makeSparseImage(file, 4 * 1024 * 1024, [{ offset: 0, length: 4 * 1024 * 1024 }], 'wan-pull')
    await dc.client.importImage({ file, name: 'img', version: 'v1' }, () => {})
    const branch = await cluster.start('branch', { swarm: { site: 'paris', wan: { maxRate: '8mbit' } }, trustedPublishers: [dc.publisherKey] })
    const started = Date.now()
    const result = await branch.client.pull({ ref: 'img@v1', from: [dc.address] }, () => {})
    const seconds = (Date.now() - started) / 1000
    assert.equal(result.fetchedBytes, 4 * 1024 * 1024)
    // 4 MiB at 1 MB/s is 4.2 s; the budget's burst is a quarter of a second
    assert.ok(seconds >= 3, `pulled 4 MiB over an 8 Mbit/s budget in ${seconds.toFixed(2)} s`)
  })
})
