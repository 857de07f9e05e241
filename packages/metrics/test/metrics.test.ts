import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMetricsServer, createNodeMetrics, MetricsConfigError, MetricsParseError, parsePrometheusText } from '../src/index.js'

describe('metrics endpoint', () => {
  it('serves every instrument as Prometheus text that parses strictly, collected at scrape time', async () => {
    const metrics = createNodeMetrics()
    let scrapes = 0
    metrics.onCollect(() => { scrapes++; metrics.storeBytes.set(1234) })
    metrics.received('branch-1', 'lan', 1000)
    metrics.received('dc', 'wan', 5000)
    metrics.sent('dc', 'wan', 42)
    metrics.pullSeconds.observe(12)
    metrics.nbdReadSeconds.observe(0.003)
    metrics.error('ERR_VERSION_NOT_FOUND')
    metrics.error('not a code\n')
    const server = createMetricsServer({ metrics, host: '127.0.0.1', port: 0 })
    const { url } = await server.start()
    try {
      const res = await fetch(url)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/)
      const families = parsePrometheusText(await res.text())
      assert.equal(scrapes, 1)
      const sample = (name: string, labels: Record<string, string> = {}): number | undefined =>
        [...families.values()].flatMap(f => f.samples).find(s => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value
      assert.equal(sample('cachecloud_bytes_received_total', { site: 'dc', link: 'wan' }), 5000)
      assert.equal(sample('cachecloud_bytes_received_total', { site: 'branch-1', link: 'lan' }), 1000)
      assert.equal(sample('cachecloud_bytes_sent_total', { site: 'dc', link: 'wan' }), 42)
      assert.equal(sample('cachecloud_store_bytes'), 1234)
      assert.equal(sample('cachecloud_pull_duration_seconds_bucket', { le: '15' }), 1)
      assert.equal(sample('cachecloud_pull_duration_seconds_bucket', { le: '5' }), 0)
      assert.equal(sample('cachecloud_nbd_read_duration_seconds_count'), 1)
      assert.equal(sample('cachecloud_errors_total', { code: 'ERR_VERSION_NOT_FOUND' }), 1)
      assert.equal(sample('cachecloud_errors_total', { code: 'ERR_UNKNOWN' }), 1)
      assert.equal(families.get('cachecloud_blocks_served_total')?.type, 'counter')
      assert.ok(families.has('process_cpu_seconds_total'))
      assert.equal((await fetch(url.replace('/metrics', '/other'))).status, 404)
    } finally {
      await server.stop()
    }
  })

  it('refuses to listen off loopback without a bearer token; with one, a scrape without it gets 401', async () => {
    const metrics = createNodeMetrics({ processMetrics: false })
    assert.throws(() => createMetricsServer({ metrics, host: '0.0.0.0', port: 0 }), (err: Error) => err instanceof MetricsConfigError && /without authentication/.test(err.message))
    assert.throws(() => createMetricsServer({ metrics, host: '127.0.0.1', port: 0, token: 'short' }), MetricsConfigError)
    const token = 'a-long-enough-metrics-token'
    const server = createMetricsServer({ metrics, host: '127.0.0.1', port: 0, token })
    const { url } = await server.start()
    try {
      assert.equal((await fetch(url)).status, 401)
      assert.equal((await fetch(url, { headers: { authorization: 'Bearer wrong-token-of-the-same-len' } })).status, 401)
      const ok = await fetch(url, { headers: { authorization: `Bearer ${token}` } })
      assert.equal(ok.status, 200)
      parsePrometheusText(await ok.text())
    } finally {
      await server.stop()
    }
  })

  it('bounds label values from peers: beyond 64 sites they count as "other"', () => {
    const metrics = createNodeMetrics({ processMetrics: false })
    for (let i = 0; i < 100; i++) metrics.received(`site-${i}`, 'wan', 1)
    assert.equal(metrics.bounded('site', 'site-99'), 'other')
    assert.equal(metrics.bounded('site', 'site-3'), 'site-3')
  })
})

describe('parsePrometheusText', () => {
  it('rejects what is not the text format', () => {
    const bad = [
      'cachecloud_x 1\n', // no TYPE
      '# TYPE a counter\na{b="c} 1\n', // unclosed label
      '# TYPE a gauge\na one\n', // not a number
      '# TYPE a gauge\na 1', // no final newline
      '# TYPE h histogram\nh_bucket{le="1"} 2\nh_bucket{le="+Inf"} 1\nh_sum 1\nh_count 1\n', // not cumulative
      '# TYPE h histogram\nh_bucket{le="1"} 1\nh_sum 1\nh_count 1\n' // no +Inf
    ]
    for (const text of bad) assert.throws(() => parsePrometheusText(text), MetricsParseError, JSON.stringify(text))
    const ok = parsePrometheusText('# HELP a the a\n# TYPE a counter\na_total{x="q\\"uote\\n"} 3\n')
    assert.equal(ok.get('a')?.samples[0].labels.x, 'q"uote\n')
  })
})
