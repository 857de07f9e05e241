import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { API_PREFIX, readEndpoint, type StatusInfo } from '@cachecloud/control'
import { makeExt4Image, sha256File } from '@cachecloud/fixtures'
import { CLI_PATH, type LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'

const run = promisify(execFile)

/** Waits until `check` holds for a status from the event stream (GET /v1/events). */
async function until (node: LaunchedCachePoint, what: string, check: (s: StatusInfo) => boolean, timeoutMs = 30_000): Promise<StatusInfo> {
  const controller = new AbortController()
  const timer = setTimeout(() => { controller.abort() }, timeoutMs)
  let found: StatusInfo | undefined
  try {
    await node.client.watchStatus((s) => { if (found === undefined && check(s)) { found = s; controller.abort() } }, { signal: controller.signal })
  } finally {
    clearTimeout(timer)
  }
  if (found === undefined) throw new Error(`timed out waiting for: ${what}`)
  return found
}

describe('pause, resume and sync through a real daemon', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let b: LaunchedCachePoint
  let imageFile: string

  before(async () => {
    cluster = await createTestCluster('pause')
    imageFile = join(cluster.dir, 'img.raw')
    await makeExt4Image({ path: imageFile, sizeMiB: 1024, seed: 'pause', fill: 0.6 })
    a = await cluster.start('a')
    await a.client.importImage({ file: imageFile, name: 'os', version: 'v1' }, () => {})
    b = await cluster.start('b', { trustedPublishers: [a.publisherKey], peers: [a.address] })
  })

  after(async () => { await cluster.close() })

  it('streams status snapshots: online once the configured peer answers, nothing pending', async () => {
    const s = await until(b, 'online', s => s.online && s.peersReachable === 1)
    assert.equal(s.paused, false)
    assert.equal(s.pending, 0)
    assert.equal(s.peersConfigured, 1)
    const endpoint = await readEndpoint(b.dataDir)
    const response = await fetch(`${endpoint.url}${API_PREFIX}/events`)
    assert.equal(response.status, 401, 'the event stream needs the token too')
    await response.body?.cancel()
  })

  it('pause stops the bytes, resume continues from the stored blocks to a bit-identical version', async () => {
    const pulling = b.client.pull({ ref: 'os@v1' }, () => {}).then(() => undefined, (err: Error & { code?: string }) => err)
    const mid = await until(b, 'pull under way', s => s.jobs.some(j => j.state === 'running' && j.done > 0))
    assert.equal(mid.pending, 1)
    const paused = await b.client.pause()
    assert.deepEqual(paused, { paused: true, stopped: ['os@v1'] })
    assert.equal((await pulling)?.code, 'ERR_PULL_PAUSED', 'the client of the paused pull hears why it ended')

    const first = await b.client.status()
    const job = first.jobs.find(j => j.ref === 'os@v1')
    assert.equal(job?.state, 'paused')
    assert.ok(job.done > 0 && job.done < job.total, `paused mid-pull at ${job.done} of ${job.total}`)
    await sleep(1200)
    const later = await b.client.status()
    assert.equal(later.store.physicalBytes, first.store.physicalBytes, 'no block stored while paused')
    assert.equal(later.jobs.find(j => j.ref === 'os@v1')?.done, job.done)
    assert.equal(later.paused, true)
    assert.equal(later.pending, 1)

    await assert.rejects(b.client.pull({ ref: 'os@v1' }, () => {}), (err: Error & { code?: string }) => err.code === 'ERR_PAUSED')
    await assert.rejects(b.client.sync(), (err: Error & { code?: string }) => err.code === 'ERR_PAUSED')

    const resumed = await b.client.resume()
    assert.deepEqual(resumed.started, ['os@v1'])
    // the version is complete a moment before its job is done: both awaited
    const done = await until(b, 'pull complete', s => s.pending === 0 && s.versions.some(v => v.state === 'complete') &&
      s.jobs.every(j => j.ref !== 'os@v1' || j.state !== 'running'), 60_000)
    const finished = done.jobs.filter(j => j.ref === 'os@v1')
    assert.equal(finished.length, 1, 'the paused job was taken over by the resumed one')
    assert.equal(finished[0].state, 'done')
    assert.equal(finished[0].done, finished[0].total)
    const out = join(cluster.dir, 'b.raw')
    await b.client.exportImage({ ref: 'os@v1', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(imageFile))
  })

  it('sync with nothing to catch up starts nothing; the CLI pauses with --json and the pause survives a restart', async () => {
    assert.deepEqual(await b.client.sync(), { paused: false, started: [], running: [], skipped: [] })
    const { stdout } = await run(process.execPath, [CLI_PATH, '--data-dir', b.dataDir, '--json', 'pause'])
    assert.deepEqual(JSON.parse(stdout), { paused: true, stopped: [] })
    const refused = await run(process.execPath, [CLI_PATH, '--data-dir', b.dataDir, 'sync']).then(() => 0, (err: { code: number, stderr: string }) => { assert.match(err.stderr, /paused/); return err.code })
    assert.notEqual(refused, 0, 'sync while paused fails')
    await b.stop()
    b = await cluster.restart('b')
    assert.equal(b.status.paused, true, 'still paused after a restart')
    const { stdout: resumed } = await run(process.execPath, [CLI_PATH, '--data-dir', b.dataDir, 'resume'])
    assert.match(resumed, /resumed: no interrupted pull/)
    assert.equal((await b.client.status()).paused, false)
  })

  it('is offline with its pending count when its only peer is gone', async () => {
    await a.stop()
    const s = await until(b, 'offline', s => !s.online)
    assert.equal(s.peersReachable, 0)
    assert.equal(s.pending, 0)
  })
})
