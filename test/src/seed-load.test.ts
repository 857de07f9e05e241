import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { seededBytes, sha256File } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'

const PULLERS = 32
const IMAGE_BYTES = 16 * 1024 * 1024
const MiB = 1024 * 1024

async function rssBytes (pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8')
  const kb = /VmRSS:\s+(\d+) kB/.exec(status)
  return kb === null ? 0 : Number(kb[1]) * 1024
}

/**
 * One seed, 32 CachePoints (real daemon processes) pulling one version from
 * it in the same second, as a branch's subscribers do when a version is
 * announced: every branch node comes from one address (127.0.0.1 here, the
 * branch's NAT address in the field). With libp2p's default connection limits
 * (5 new connections per second per host) 3 of 8 such pulls failed with
 * ECONNRESET and the seed logged nothing.
 */
describe('a seed under a branch starting to pull at once', () => {
  let cluster: TestCluster
  let seed: LaunchedCachePoint & { publisherKey: string }
  const pullers: LaunchedCachePoint[] = []
  let imageSha: string

  before(async () => {
    cluster = await createTestCluster('seed-load')
    const image = join(cluster.dir, 'image.raw')
    // half random, half runs of text-like bytes: some blocks travel compressed
    const bytes = Buffer.concat([seededBytes('seed-load', IMAGE_BYTES / 2), Buffer.from('block image kernel swarm '.repeat(IMAGE_BYTES / 2 / 25 + 1)).subarray(0, IMAGE_BYTES / 2)])
    await writeFile(image, bytes)
    imageSha = await sha256File(image)
    seed = await cluster.start('seed')
    await seed.client.importImage({ file: image, name: 'gold', version: '1' }, () => {})
    for (let i = 0; i < PULLERS; i += 8) {
      pullers.push(...await Promise.all(Array.from({ length: Math.min(8, PULLERS - i) }, async (_, j) => await cluster.start(`p${i + j}`, { trustedPublishers: [seed.publisherKey] }))))
    }
  })

  after(async () => { await cluster.close() })

  it('32 pullers starting together all complete, exports bit-identical, the seed\'s memory bounded, each puller served a fair share', async () => {
    const rssBefore = await rssBytes(seed.process.pid as number)
    let rssPeak = rssBefore
    const sampler = setInterval(() => { rssBytes(seed.process.pid as number).then(r => { rssPeak = Math.max(rssPeak, r) }, () => {}) }, 100)
    let results
    try {
      results = await Promise.allSettled(pullers.map(async p => await p.client.pull({ ref: 'gold@1', from: [seed.address] }, () => {})))
    } finally {
      clearInterval(sampler)
    }
    const failed = results.filter(r => r.status === 'rejected').map(r => String((r as PromiseRejectedResult).reason))
    assert.deepEqual(failed, [], `${failed.length} of ${PULLERS} pulls failed`)
    const pulled = results.map(r => (r as PromiseFulfilledResult<Awaited<ReturnType<LaunchedCachePoint['client']['pull']>>>).value)
    // every distinct block once (the text half repeats itself)
    for (const r of pulled) assert.equal(r.fetchedBytes, pulled[0]?.fetchedBytes)
    assert.ok((pulled[0]?.fetchedBytes ?? 0) > IMAGE_BYTES / 2)

    const rates = pulled.map(r => r.fetchedBytes / r.durationMs)
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length
    const slowest = Math.min(...rates)
    assert.ok(slowest >= mean / 2, `slowest puller ${(slowest * 1000 / MiB).toFixed(1)} MiB/s, mean ${(mean * 1000 / MiB).toFixed(1)} MiB/s`)
    // 32 streams with their read-ahead, coalesced writes and yamux windows (measured: 280 MiB of growth, GC slack included), well below the 480 MB the seed sends
    assert.ok(rssPeak - rssBefore < 384 * MiB, `seed RSS grew by ${((rssPeak - rssBefore) / MiB).toFixed(0)} MiB (from ${(rssBefore / MiB).toFixed(0)} MiB)`)

    for (const [i, p] of pullers.entries()) {
      const file = join(cluster.dir, `export-${i}.raw`)
      await p.client.exportImage({ ref: 'gold@1', file }, () => {})
      assert.equal(await sha256File(file), imageSha, `puller ${i}'s export`)
    }
  })
})
