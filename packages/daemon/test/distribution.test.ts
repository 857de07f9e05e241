import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { describeRetry, DEFAULT_PULL_RETRY, retryDelay } from '@cachecloud/core'
import { TempDirs, until } from '@cachecloud/test-utils'
import { pino } from 'pino'
import { createDaemon, initDataDir, type CachePointDaemon } from '../src/index.js'
import { startNode, type TestNode } from './helpers.js'

const MIB = 1024 * 1024

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise(resolve => server.close(resolve))
  return port
}

describe('the retry rule', () => {
  it('doubles from its base to its bound and gives up after its tries', () => {
    const delays = Array.from({ length: 10 }, (_, attempt) => retryDelay(DEFAULT_PULL_RETRY, attempt))
    assert.deepEqual(delays, [1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000, 30_000, undefined])
    assert.equal(retryDelay({ baseMs: 5, maxMs: 10, maxAttempts: Infinity }, 1_000), 10, 'without a bound on tries it never gives up')
    assert.equal(describeRetry(DEFAULT_PULL_RETRY), 'tried again after 1 s, doubling to at most 30 s, 10 tries in all')
  })
})

/** Two real daemons on 127.0.0.1: the source stops while a resumed pull needs it, and comes back at the same address. */
describe('distribution: a background pull that fails is tried again', () => {
  const dirs = new TempDirs()
  let source: { daemon: CachePointDaemon, dataDir: string } | undefined
  let b: TestNode | undefined

  after(async () => {
    await Promise.allSettled([source?.daemon.stop(), b?.daemon.stop()])
    await dirs.removeAll()
  })

  it('fails while its peer is gone, says when it tries again, and completes once the peer is back, without a sync', async () => {
    const port = await freePort()
    const dataDir = await dirs.make('distribution-source-')
    const { publisherKey, config } = await initDataDir(dataDir, { listen: [`/ip4/127.0.0.1/tcp/${port}`] })
    const startSource = async (): Promise<{ daemon: CachePointDaemon, address: string }> => {
      const daemon = createDaemon({ config, logger: pino({ level: 'silent' }) })
      const { addresses } = await daemon.start()
      source = { daemon, dataDir }
      return { daemon, address: addresses[0] }
    }
    const first = await startSource()
    await writeFile(join(dataDir, 'gold.raw'), randomBytes(48 * MIB))
    await first.daemon.images.import({ file: join(dataDir, 'gold.raw'), name: 'gold', version: '1' }, () => {})

    b = await startNode(dirs, { trustedPublishers: [publisherKey] })
    const node = b
    // the pull is paused once its first bytes are stored: the version is `pulling`, its source recorded
    let paused: Promise<unknown> | undefined
    await node.client.pull({ ref: 'gold@1', from: [first.address] }, (e) => { if (e.done > 0) paused ??= node.client.pause() }).catch(() => {})
    await paused
    assert.equal((await node.daemon.images.list())[0]?.state, 'pulling', 'paused mid-pull')
    await first.daemon.stop()

    const resumed = await node.client.resume()
    assert.deepEqual(resumed.started, ['gold@1'])
    const waiting = await until(async () => await node.client.status(), s => s.pulls.some(p => p.ref === 'gold@1' && p.retry !== undefined), { timeoutMs: 40_000, what: 'a retry of the failed pull' })
    const status = waiting.pulls.find(p => p.ref === 'gold@1')
    assert.equal(status?.state, 'failed')
    assert.match(status?.retry ?? '', /^tried again at \d{4}-\d\d-\d\dT\S+ \((1 try|\d+ tries) failed\)$/)
    assert.match(waiting.pullFailures.find(f => f.ref === 'gold@1')?.message ?? '', /\(retrying\)$/)

    await startSource() // the same data directory and address
    const done = await until(async () => await node.client.status(), s => s.pulls.find(p => p.ref === 'gold@1')?.state === 'done', { timeoutMs: 60_000, what: 'the retried pull to be done' })
    assert.equal(done.versions[0]?.state, 'complete')
    assert.deepEqual(done.pullFailures, [], 'the success supersedes the failure')
  })
})
