import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeExt4Image, sha256File } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'

describe('a pull killed mid-transfer (kill -9)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let imageFile: string

  before(async () => {
    cluster = await createTestCluster('resume')
    imageFile = join(cluster.dir, 'big.raw')
    await makeExt4Image({ path: imageFile, sizeMiB: 1024, seed: 'resume', fill: 0.6 })
    a = await cluster.start('a')
  })

  after(async () => { await cluster.close() })

  it('resumes after restart without fetching stored blocks again', async () => {
    const imported = await a.client.importImage({ file: imageFile, name: 'big', version: 'v1' }, () => {})
    const b = await cluster.start('b', { trustedPublishers: [a.publisherKey] })
    let killedAt = 0
    const killed = b.client.pull({ ref: 'big@v1', from: [a.address] }, (event) => {
      if (killedAt === 0 && event.done > 0.3 * event.total) {
        killedAt = event.done
        void b.kill()
      }
    })
    await assert.rejects(killed, 'the pull dies with its daemon')
    assert.ok(killedAt > 0 && killedAt < imported.newBytes, 'killed mid-transfer')

    const again = await cluster.restart('b')
    const [entry] = await again.client.images()
    assert.equal(entry.state, 'pulling', 'the interrupted version is known but not complete')
    await assert.rejects(again.client.exportImage({ ref: 'big@v1', file: join(cluster.dir, 'early.raw') }, () => {}),
      (err: Error & { code?: string }) => err.code === 'ERR_VERSION_INCOMPLETE', 'a half-pulled version cannot be exported')
    const resumed = await again.client.pull({ ref: 'big@v1', from: [a.address] }, () => {})
    assert.ok(resumed.heldBlocks > 0, 'blocks stored before the kill are kept')
    assert.equal(resumed.fetchedBlocks + resumed.heldBlocks, imported.newBlocks, 'every block fetched once overall: held ones are not fetched again')
    assert.ok(resumed.fetchedBytes < imported.newBytes, 'the resumed pull moves less than the whole image')
    const out = join(cluster.dir, 'b.raw')
    await again.client.exportImage({ ref: 'big@v1', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(imageFile))
  })
})
