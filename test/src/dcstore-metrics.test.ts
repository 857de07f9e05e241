import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { multiaddr } from '@multiformats/multiaddr'
import { createBlockstore } from '@cachecloud/blockstore'
import { parsePrometheusText, type MetricFamily } from '@cachecloud/metrics'
import { createNetwork, loadOrCreatePeerKey } from '@cachecloud/network'
import { createPersonalFolder, fetchSnapshot, replicateSnapshot, StoreReader } from '@cachecloud/personal'
import { until } from '@cachecloud/test-utils'
import { DCSTORE_CLI, launch, run, type Proc } from './personal-procs.js'

const value = (families: Map<string, MetricFamily>, name: string): number => families.get(name)?.samples.reduce((n, s) => n + s.value, 0) ?? -1

describe('dcstore serve --metrics', () => {
  let dir: string
  let serve: Proc | undefined
  after(async () => {
    serve?.child.kill('SIGTERM')
    await serve?.exited
    await rm(dir, { recursive: true, force: true })
  })

  it('serves Prometheus text on loopback (store size, errors by code); beyond loopback without a token it refuses to start', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-metrics-'))
    const keyFile = join(dir, 'discovery.key')
    await run(DCSTORE_CLI, ['keygen', '--out', keyFile])
    serve = launch(DCSTORE_CLI, ['--data', join(dir, 'store'), '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0', '--metrics', '127.0.0.1:0'])
    const ready = await serve.waitFor(e => e.peerId !== undefined)
    const url = ready.metrics as string
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/metrics$/)
    const res = await fetch(url)
    assert.equal(res.status, 200)
    const families = parsePrometheusText(await res.text())
    const bytes = families.get('cachecloud_store_bytes')?.samples[0]?.value ?? -1
    assert.ok(bytes > 0, `the store's files take space: ${bytes}`)
    assert.equal(families.get('cachecloud_dcstore_snapshots_committed_total')?.type, 'counter')
    assert.equal(families.get('cachecloud_errors_total')?.type, 'counter')

    const refused = launch(DCSTORE_CLI, ['--data', join(dir, 'store2'), '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0', '--metrics', '0.0.0.0:0'])
    assert.equal(await refused.exited, 2, refused.stderr())
    assert.match(refused.stderr().trim(), /^[^\n]*--metrics 0\.0\.0\.0:0 is reachable beyond this host: add --metrics-token-file[^\n]*$/)
  })

  it('counts what a real replication moved in and what reads served out: bytes, blocks received, stored and served (counters)', async () => {
    const base = await mkdtemp(join(tmpdir(), 'dcstore-metrics-traffic-'))
    const keyFile = join(base, 'discovery.key')
    const discovery = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    const proc = launch(DCSTORE_CLI, ['--data', join(base, 'store'), '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0', '--metrics', '127.0.0.1:0'])
    const blockstore = createBlockstore({ path: join(base, 'node-blocks') })
    const restoreBlocks = createBlockstore({ path: join(base, 'restore-blocks') })
    let libp2p: Awaited<ReturnType<typeof createNetwork>> | undefined
    try {
      const ready = await proc.waitFor(e => e.peerId !== undefined)
      const addr = (ready.addrs as string[]).find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))!
      const store = multiaddr(addr.includes('/p2p/') ? addr : `${addr}/p2p/${String(ready.peerId)}`)
      libp2p = await createNetwork({ privateKey: await loadOrCreatePeerKey(join(base, 'node.key')), listen: ['/ip4/127.0.0.1/tcp/0'] })
      await run(DCSTORE_CLI, ['--data', join(base, 'store'), 'enroll', libp2p.peerId.toString(), '--user', 'alice'])
      const folder = join(base, 'alice')
      await mkdir(join(folder, 'docs'), { recursive: true })
      for (let i = 0; i < 5; i++) await writeFile(join(folder, 'docs', `f${i}.txt`), `file ${i}\n`.repeat(4000 * (i + 1)))
      await blockstore.start()
      await restoreBlocks.start()
      const sync = createPersonalFolder({ user: 'alice', folder, stateDir: join(base, 'state'), blockstore, node: libp2p.peerId.toString(), discoveryKey: discovery, watch: false })
      const snap = await sync.snapshot()
      const sent = await replicateSnapshot({
        libp2p,
        store,
        blockstore,
        record: { cid: snap.cid, bytes: await blockstore.get(snap.cid), root: snap.root },
        timeoutMs: 30_000
      })
      assert.equal(sent.status, 'committed')
      const reader = await StoreReader.open({ libp2p, store, timeoutMs: 30_000 })
      const [head] = await reader.heads('alice')
      const fetched = await fetchSnapshot(reader, restoreBlocks, head)
      await reader.close()
      const bytesServed = reader.bytesRead

      // scraped by a real HTTP client; the read stream's counts land when it ends
      const families = await until(async () => parsePrometheusText(await (await fetch(ready.metrics as string)).text()),
        f => value(f, 'cachecloud_bytes_sent_total') > 0 && value(f, 'cachecloud_bytes_received_total') > 0, { timeoutMs: 10_000, intervalMs: 100, what: 'the streams counted' })
      for (const name of ['cachecloud_bytes_received_total', 'cachecloud_bytes_sent_total', 'cachecloud_blocks_stored_total', 'cachecloud_blocks_served_total', 'cachecloud_dcstore_blocks_received_total']) {
        assert.equal(families.get(name)?.type, 'counter', name)
      }
      assert.deepEqual(families.get('cachecloud_bytes_received_total')?.samples.map(s => s.labels), [{ site: '', link: 'wan' }])
      // every frame the node sent (offer, blocks, framing), every block it sent, each new one stored, and the record stored beside them
      assert.equal(value(families, 'cachecloud_bytes_received_total'), sent.wireBytesOut)
      assert.equal(value(families, 'cachecloud_dcstore_blocks_received_total'), sent.blocksSent)
      assert.equal(value(families, 'cachecloud_blocks_stored_total'), sent.blocksSent + 1)
      assert.equal(value(families, 'cachecloud_dcstore_snapshots_committed_total'), 1)
      // every frame the reader read, every block it fetched
      assert.equal(value(families, 'cachecloud_bytes_sent_total'), bytesServed)
      assert.equal(value(families, 'cachecloud_blocks_served_total'), fetched.blocks)
      assert.ok(fetched.blocks === sent.blocksSent && fetched.blocks > 5)
    } finally {
      await blockstore.stop()
      await restoreBlocks.stop()
      await libp2p?.stop()
      proc.child.kill('SIGTERM')
      await proc.exited
      await rm(base, { recursive: true, force: true })
    }
  })
})
