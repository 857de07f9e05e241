import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { parsePrometheusText } from '@cachecloud/metrics'
import { DCSTORE_CLI, launch, run, type Proc } from './personal-procs.js'

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
})
