import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { makeSparseImage, sha256File } from '@cachecloud/fixtures'
import { parsePrometheusText } from '@cachecloud/metrics'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'

const DATA = 48 * 1024 * 1024

/**
 * The URL the daemon of `dataDir` last said it serves metrics at (its log). The test used to pick a free port
 * and configure it, which another socket could take before the daemon bound it (CI: the daemon exited 11, in use).
 */
async function metricsUrl (dataDir: string): Promise<string> {
  const lines = (await readFile(join(dataDir, 'daemon.log'), 'utf8')).split('\n').filter(l => l.includes('"metrics at '))
  const url = (JSON.parse(lines.at(-1) ?? '{}') as { url?: string }).url
  assert.ok(url !== undefined, `no "metrics at" line in ${dataDir}/daemon.log`)
  return url
}

// infra/README.md "Upgrading CacheCloud without losing a pull": systemctl restart sends SIGTERM
describe('a restart (SIGTERM, as systemctl restart) in the middle of a pull', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let image: string

  before(async () => {
    cluster = await createTestCluster('upgrade')
    image = join(cluster.dir, 'gold.raw')
    await makeSparseImage(image, 64 * 1024 * 1024, [{ offset: 0, length: DATA }])
    a = await cluster.start('a')
  })

  after(async () => { await cluster?.close() })

  it('the pull continues by itself after the restart, fetching only what was missing', { timeout: 180_000 }, async () => {
    const imported = await a.client.importImage({ file: image, name: 'gold', version: '1' }, () => {})
    // 40 Mbit/s: every peer is WAN without a site, so the pull takes about 10 s
    const b = await cluster.start('b', { trustedPublishers: [a.publisherKey], swarm: { wan: { maxRate: '40mbit' } }, metrics: { listen: '127.0.0.1:0' } })
    let stoppedAt = 0
    const pull = b.client.pull({ ref: 'gold@1', from: [a.address] }, (event) => {
      if (stoppedAt === 0 && event.done > 0.3 * event.total) {
        stoppedAt = event.done
        void b.stop() // SIGTERM, and wait for the exit
      }
    })
    await assert.rejects(pull, 'the client is told the daemon went away')
    assert.ok(stoppedAt > 0 && stoppedAt < imported.newBytes, 'stopped mid-transfer')

    const again = await cluster.restart('b')
    const deadline = Date.now() + 120_000
    for (;;) {
      const [entry] = await again.client.images()
      if (entry?.state === 'complete') break
      assert.ok(Date.now() < deadline, 'the pull completed without being asked again')
      await sleep(250)
    }
    const out = join(cluster.dir, 'b.raw')
    await again.client.exportImage({ ref: 'gold@1', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(image))
    const text = await (await fetch(await metricsUrl(again.dataDir))).text()
    const received = [...parsePrometheusText(text).values()].flatMap(f => f.samples)
      .filter(s => s.name === 'cachecloud_bytes_received_total').reduce((n, s) => n + s.value, 0)
    assert.ok(received > 0 && received <= imported.newBytes - stoppedAt * 0.9,
      `after the restart only the missing part crossed: ${received} of ${imported.newBytes} (${stoppedAt} held before)`)
  })
})
