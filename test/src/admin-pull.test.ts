import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeSparseImage, sha256File } from '@cachecloud/fixtures'
import { CLI_PATH, initLoopbackNode, type LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'
import { waitFor } from '@cachecloud/test-utils'

const MiB = 1024 * 1024

describe('a direct pull cut by a daemon crash', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let imageFile: string

  before(async () => {
    cluster = await createTestCluster('admin-pull')
    imageFile = join(cluster.dir, 'gold.raw')
    await makeSparseImage(imageFile, 32 * MiB, [{ offset: 0, length: 24 * MiB }], 'admin-pull')
    a = await cluster.start('a')
    await a.client.importImage({ file: imageFile, name: 'gold', version: '1.0' }, () => {})
  })

  after(async () => { await cluster.close() })

  it('tells the waiting client in one line (exit 3), and continues by itself when the daemon starts again', async () => {
    // b's WAN budget (16 Mbit/s) makes the 24 MiB pull last about 12 s: time to kill it midway
    const dir = join(cluster.dir, 'b')
    await initLoopbackNode(dir, { trustedPublishers: [a.publisherKey] })
    const path = join(dir, 'config.json')
    await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')) as object, wan: { maxRate: '16mbit' } }))
    const b = await cluster.restart('b')

    const client = spawn(process.execPath, [CLI_PATH, '--data-dir', dir, 'image', 'pull', 'gold@1.0', '--from', a.address], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    client.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
    const exited = new Promise<number | null>((resolve) => client.on('close', resolve))
    await waitFor(async () => (await b.client.status()).jobs.some(j => j.kind === 'pull' && j.done > 0.2 * j.total && j.total > 0), { timeoutMs: 30_000, intervalMs: 100, what: 'the pull to be under way', ignoreErrors: true })
    await b.kill()
    assert.equal(await exited, 3, stderr)
    const lines = stderr.trim().split('\n').filter(l => !l.includes('%'))
    assert.equal(lines.length, 1, stderr)
    assert.match(lines[0], /^cachepoint: the CachePoint daemon went away during pull gold@1\.0 \(crashed or stopped\): it continues the pull when it starts again/)

    const again = await cluster.restart('b')
    const status = await again.client.status()
    assert.ok(status.jobs.some(j => j.kind === 'pull' && j.ref === 'gold@1.0' && j.state === 'running'), `a pull job runs after the restart: ${JSON.stringify(status.jobs)}`)
    await waitFor(async () => (await again.client.images()).some(v => v.state === 'complete'), { timeoutMs: 60_000, intervalMs: 100, what: 'the pull to finish by itself', ignoreErrors: true })
    const out = join(cluster.dir, 'b.raw')
    await again.client.exportImage({ ref: 'gold@1.0', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(imageFile))
  })
})
