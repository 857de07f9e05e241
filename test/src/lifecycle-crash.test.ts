import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { CheckResultInfo } from '@cachecloud/control'
import { makeExt4Image, sha256File } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { cli } from './cli-run.js'
import { createTestCluster, type TestCluster } from './nodes.js'

// Issue 14: "kill -9 in the middle leaves every remaining version complete and exportable".
// v1 fills most of the first pack and shares nothing with v2, so removing it makes gc repack v2's
// blocks out of that pack and delete it: the daemon is killed at several moments of that.
describe('image rm killed with SIGKILL midway (real daemon)', () => {
  let cluster: TestCluster
  let node: LaunchedCachePoint
  let v1: string
  let v2: string

  before(async () => {
    cluster = await createTestCluster('rm-crash')
    v1 = join(cluster.dir, 'v1.raw')
    v2 = join(cluster.dir, 'v2.raw')
    await makeExt4Image({ path: v1, sizeMiB: 128, seed: 'rm-crash-1', fill: 0.7 })
    await makeExt4Image({ path: v2, sizeMiB: 64, seed: 'rm-crash-2', fill: 0.5 })
    node = await cluster.start('a')
    await node.client.importImage({ file: v1, name: 'os', version: 'v1' }, () => {})
    await node.client.importImage({ file: v2, name: 'os', version: 'v2' }, () => {})
  })
  after(async () => { await cluster.close() })

  it('leaves v2 complete, checked and bit-identical, and v1 either whole or gone, wherever the kill lands', async (t) => {
    const v2Hash = await sha256File(v2)
    const phases: string[] = []
    for (const delayMs of [5, 40, 120, 250, 500]) {
      const logBefore = (await readFile(join(node.dataDir, 'daemon.log'), 'utf8')).length
      const removing = node.client.removeVersion({ ref: 'os@v1' }).then(() => 'done', () => 'cut')
      await sleep(delayMs)
      await node.kill()
      const outcome = await removing
      const log = (await readFile(join(node.dataDir, 'daemon.log'), 'utf8')).slice(logBefore)
      phases.push(`${delayMs} ms: ${/garbage collected/.test(log) ? 'after gc' : /removed os@v1/.test(log) ? 'ref removed, in gc' : 'before the ref was removed'} (${outcome})`)

      node = await cluster.restart('a')
      const versions = await node.client.images()
      const byRef = new Map(versions.map(v => [`${v.name}@${v.version}`, v.state]))
      assert.equal(byRef.get('os@v2'), 'complete', `${delayMs} ms: v2 still complete`)
      assert.ok(!byRef.has('os@v1') || byRef.get('os@v1') === 'complete', `${delayMs} ms: v1 whole or gone`)
      const checked = await cli(node.dataDir, '--json', 'check', '--read-data')
      assert.equal(checked.code, 0, `${delayMs} ms: ${JSON.stringify((JSON.parse(checked.stdout) as CheckResultInfo).problems)}`)
      const out = join(cluster.dir, `v2-${delayMs}.raw`)
      await node.client.exportImage({ ref: 'os@v2', file: out }, () => {})
      assert.equal(await sha256File(out), v2Hash, `${delayMs} ms: v2 bit-identical`)
      if (byRef.has('os@v1')) {
        const out1 = join(cluster.dir, `v1-${delayMs}.raw`)
        await node.client.exportImage({ ref: 'os@v1', file: out1 }, () => {})
        assert.equal(await sha256File(out1), await sha256File(v1), `${delayMs} ms: v1, still held, bit-identical`)
      } else {
        await node.client.importImage({ file: v1, name: 'os', version: 'v1' }, () => {})
      }
    }
    t.diagnostic(`kill points: ${phases.join('; ')}`)
  })
})
