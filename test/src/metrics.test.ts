import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeSparseImage, runOk } from '@cachecloud/fixtures'
import { parsePrometheusText, type MetricFamily } from '@cachecloud/metrics'
import { initLoopbackNode, type LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'
import { cli } from './cli-run.js'
import { daemonRun } from './admin-run.js'

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

async function scrape (url: string, headers: Record<string, string> = {}): Promise<Map<string, MetricFamily>> {
  const res = await fetch(url, { headers })
  assert.equal(res.status, 200)
  return parsePrometheusText(await res.text())
}

function value (families: Map<string, MetricFamily>, name: string, labels: Record<string, string> = {}): number {
  const samples = [...families.values()].flatMap(f => f.samples).filter(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  assert.ok(samples.length > 0, `no sample ${name} ${JSON.stringify(labels)}`)
  return samples.reduce((n, s) => n + s.value, 0)
}

describe('Prometheus endpoint of a CachePoint (real daemons, real pull, real NBD reads)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint
  let b: LaunchedCachePoint
  let aUrl: string
  let bUrl: string
  let publisher: string
  const token = 'metrics-token-for-the-test-0123456789'

  before(async () => {
    cluster = await createTestCluster('metrics')
    const [pa, pb] = [await freePort(), await freePort()]
    aUrl = `http://127.0.0.1:${pa}/metrics`
    bUrl = `http://127.0.0.1:${pb}/metrics`
    const tokenFile = join(cluster.dir, 'metrics.token')
    await writeFile(tokenFile, token + '\n', { mode: 0o600 })
    a = await cluster.start('a', { metrics: { listen: `127.0.0.1:${pa}` }, swarm: { site: 'dc' } })
    publisher = (a as unknown as { publisherKey: string }).publisherKey
    b = await cluster.start('b', { trustedPublishers: [publisher], metrics: { listen: `127.0.0.1:${pb}`, tokenFile }, swarm: { site: 'branch' } })
    const image = join(cluster.dir, 'gold.raw')
    await makeSparseImage(image, 8 * 1024 * 1024, [{ offset: 0, length: 2 * 1024 * 1024 }, { offset: 6 * 1024 * 1024, length: 100_000 }])
    assert.equal((await cli(a.dataDir, 'image', 'import', image, '--name', 'gold', '--version', '1')).code, 0)
  })

  after(async () => { await cluster?.close() })

  it('counts a pull on both sides: bytes by site and LAN/WAN, blocks stored and served, pull latency, store size', async () => {
    const pulled = await cli(b.dataDir, 'image', 'pull', 'gold@1', '--from', a.address)
    assert.equal(pulled.code, 0, pulled.stderr)
    const am = await scrape(aUrl)
    const bm = await scrape(bUrl, { authorization: `Bearer ${token}` })
    // 2 MiB + 100 KB of data in 256 KiB blocks: 9 blocks (one partial)
    assert.equal(value(am, 'cachecloud_blocks_stored_total'), 9, 'A imported 9 blocks')
    assert.equal(value(am, 'cachecloud_blocks_served_total'), 9, 'A served them to B')
    assert.ok(value(am, 'cachecloud_bytes_sent_total', { site: 'branch', link: 'wan' }) >= 2 * 1024 * 1024 + 100_000, 'B is of another site: WAN')
    assert.equal(value(bm, 'cachecloud_blocks_stored_total'), 9)
    assert.ok(value(bm, 'cachecloud_bytes_received_total', { site: 'dc', link: 'wan' }) >= 2 * 1024 * 1024)
    assert.equal(value(bm, 'cachecloud_pull_duration_seconds_count'), 1)
    assert.ok(value(bm, 'cachecloud_store_bytes') > 0)
    assert.equal(value(bm, 'cachecloud_store_blocks'), 10, 'nine blocks and the manifest')
    assert.equal(value(bm, 'cachecloud_pulls', { state: 'complete' }), 1)
    assert.equal(value(bm, 'cachecloud_personal_snapshots_pending'), 0)
    assert.equal(bm.get('cachecloud_nbd_read_duration_seconds')?.type, 'histogram')
  })

  it('a pull from a node of the same site counts as LAN on both sides', async () => {
    const pc = await freePort()
    const c = await cluster.start('c', { trustedPublishers: [publisher], metrics: { listen: `127.0.0.1:${pc}` }, swarm: { site: 'branch' } })
    const pulled = await cli(c.dataDir, 'image', 'pull', 'gold@1', '--from', b.address)
    assert.equal(pulled.code, 0, pulled.stderr)
    const cm = await scrape(`http://127.0.0.1:${pc}/metrics`)
    assert.ok(value(cm, 'cachecloud_bytes_received_total', { site: 'branch', link: 'lan' }) >= 2 * 1024 * 1024)
    const bm = await scrape(bUrl, { authorization: `Bearer ${token}` })
    assert.ok(value(bm, 'cachecloud_bytes_sent_total', { site: 'branch', link: 'lan' }) >= 2 * 1024 * 1024)
    assert.equal(value(bm, 'cachecloud_blocks_served_total'), 9)
  })

  it('times NBD reads and counts errors by code', async () => {
    const served = await cli(b.dataDir, '--json', 'image', 'serve', 'gold@1')
    assert.equal(served.code, 0, served.stderr)
    const uri = (JSON.parse(served.stdout) as { uri: string }).uri
    await runOk('qemu-img', ['convert', '-f', 'raw', uri, join(cluster.dir, 'read.raw')])
    const missing = await cli(b.dataDir, 'image', 'export', 'gold@9', join(cluster.dir, 'x.raw'))
    assert.notEqual(missing.code, 0)
    const bm = await scrape(bUrl, { authorization: `Bearer ${token}` })
    assert.ok(value(bm, 'cachecloud_nbd_read_duration_seconds_count') > 0)
    assert.equal(value(bm, 'cachecloud_errors_total', { code: 'ERR_VERSION_NOT_FOUND' }), 1)
  })

  it('a scrape without the configured token gets 401', async () => {
    assert.equal((await fetch(bUrl)).status, 401)
  })

  it('a daemon whose metrics would listen beyond loopback without a token does not start: one line, exit 9', async () => {
    const dir = join(cluster.dir, 'open')
    await assert.rejects(initLoopbackNode(dir, { metrics: { listen: '0.0.0.0:9464' } }), /metrics\.tokenFile/)
    await initLoopbackNode(dir)
    const config = join(dir, 'config.json')
    const { readFile } = await import('node:fs/promises')
    const doc = JSON.parse(await readFile(config, 'utf8')) as Record<string, unknown>
    await writeFile(config, JSON.stringify({ ...doc, metrics: { listen: '0.0.0.0:9464' } }))
    const r = await daemonRun(dir, 20_000)
    assert.equal(r.code, 9, r.stderr)
    assert.match(r.stderr.trim(), /^[^\n]*"metrics\.listen" 0\.0\.0\.0:9464 is reachable beyond this host: set "metrics\.tokenFile"[^\n]*$/)
  })
})
