import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { PruneResultInfo, RemoveResultInfo } from '@cachecloud/control'
import { makeExt4Image, sha256File, updateImage } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { cli, cliJson } from './cli-run.js'
import { createTestCluster, type TestCluster } from './nodes.js'
import { waitFor } from '@cachecloud/test-utils'

async function setRetention (node: LaunchedCachePoint, retention: unknown): Promise<void> {
  const path = join(node.dataDir, 'config.json')
  const config = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
  await writeFile(path, JSON.stringify({ ...config, retention }, null, 2))
}

const refs = async (node: LaunchedCachePoint): Promise<string[]> => (await node.client.images()).map(v => `${v.name}@${v.version}:${v.state}`).sort()

// Issue 14, "Image version lifecycle": image rm (refused while in use), gc after it, retention and prune.
describe('image rm and prune (real daemons)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  const files: Record<string, string> = {}

  before(async () => {
    cluster = await createTestCluster('lifecycle')
    files.v1 = join(cluster.dir, 'v1.raw')
    await makeExt4Image({ path: files.v1, sizeMiB: 64, seed: 'lifecycle' })
    for (const [from, to] of [['v1', 'v2'], ['v2', 'v3']] as const) {
      files[to] = join(cluster.dir, `${to}.raw`)
      await copyFile(files[from] as string, files[to] as string)
      await updateImage(files[to] as string, { seed: `lifecycle-${to}`, changedFiles: 4, newFiles: 2, newBytes: 2 * 1024 * 1024 })
    }
    a = await cluster.start('a')
    await a.client.importImage({ file: files.v1 as string, name: 'os', version: 'v1' }, () => {})
    await a.client.importImage({ file: files.v2 as string, name: 'os', version: 'v2' }, () => {})
  })
  after(async () => { await cluster.close() })

  it('refuses to remove a version served over NBD (exit 11, one line, nothing changed); after unserve removes it and gc frees exactly its own blocks', async () => {
    const served = await a.client.serve({ ref: 'os@v1', port: 0 })
    const before = await a.client.status()
    const refused = await cli(a.dataDir, 'image', 'rm', 'os@v1')
    assert.equal(refused.code, 11, refused.stderr)
    assert.match(refused.stderr, /^cachepoint: os@v1 is in use \(served over NBD at 127\.0\.0\.1:\d+\): nothing removed; stop that first\n$/)
    assert.deepEqual(await refs(a), ['os@v1:complete', 'os@v2:complete'])
    assert.equal((await a.client.status()).store.blocks, before.store.blocks, 'no block removed')
    await a.client.unserve(served.id)

    const own = (await a.client.diff('os@v2', 'os@v1')).fetchBlocks // blocks of v1 that v2 does not use
    const removed = await cliJson<RemoveResultInfo>(a.dataDir, 'image', 'rm', 'os@v1')
    assert.equal(removed.ref, 'os@v1')
    assert.equal(removed.gc?.removed, own + 1, 'its own blocks and its manifest; shared blocks kept')
    assert.deepEqual(await refs(a), ['os@v2:complete'])
    assert.equal((await a.client.status()).store.blocks, before.store.blocks - own - 1)
    const out = join(cluster.dir, 'v2-after-rm.raw')
    await a.client.exportImage({ ref: 'os@v2', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(files.v2 as string), 'the remaining version exports bit-identical')
  })

  it('keeps the only complete version of a subscribed image unless --force', async () => {
    await a.client.subscribe('os', 'manual')
    const refused = await cli(a.dataDir, 'image', 'rm', 'os@v2')
    assert.equal(refused.code, 11)
    assert.match(refused.stderr, /^cachepoint: os@v2 is the only complete version of subscribed image os: nothing removed \(use --force to remove it anyway\)\n$/)
    assert.deepEqual(await refs(a), ['os@v2:complete'])
    const forced = await cli(a.dataDir, 'image', 'rm', 'os@v2', '--force')
    assert.equal(forced.code, 0, forced.stderr)
    assert.match(forced.stdout, /^removed os@v2 \(/)
    assert.deepEqual(await refs(a), [])
    await a.client.unsubscribe('os')
    const missing = await cli(a.dataDir, 'image', 'rm', 'os@v2')
    assert.equal(missing.code, 4, 'a version not held: not found')
  })

  it('refuses to remove a version being pulled, and removes it once the pull is paused', async () => {
    await a.client.importImage({ file: files.v1 as string, name: 'os', version: 'v1' }, () => {})
    const b = await cluster.start('b', { swarm: { site: 'paris', wan: { maxRate: '16mbit' } }, trustedPublishers: [a.publisherKey] })
    const pulling = b.client.pull({ ref: 'os@v1', from: [a.address] }, () => {}).catch((err: Error & { code?: string }) => err.code)
    await waitFor(async () => (await b.client.status()).jobs.some(j => j.kind === 'pull' && j.state === 'running' && j.done > 0), { timeoutMs: 60_000, intervalMs: 100 })
    const refused = await cli(b.dataDir, 'image', 'rm', 'os@v1')
    assert.equal(refused.code, 11)
    assert.match(refused.stderr, /os@v1 is in use \(being pulled\)/)
    await b.client.pause()
    assert.equal(await pulling, 'ERR_PULL_PAUSED')
    assert.equal((await cli(b.dataDir, 'image', 'rm', 'os@v1')).code, 0)
    assert.deepEqual(await refs(b), [])
    await b.stop()
  })

  it('prune applies the retention policy of the config: dry run changes nothing, a served version is kept, then removed', async () => {
    await a.client.importImage({ file: files.v2 as string, name: 'os', version: 'v2' }, () => {})
    await a.client.importImage({ file: files.v3 as string, name: 'os', version: 'v3' }, () => {})
    await a.stop()
    await setRetention(a, { os: { keepLast: 2 } })
    const again = await cluster.restart('a')
    a = { ...again, publisherKey: a.publisherKey }

    const dry = await cliJson<PruneResultInfo>(a.dataDir, 'image', 'prune', '--dry-run')
    assert.deepEqual(dry.removed, [{ ref: 'os@v1', reasons: [] }])
    assert.deepEqual(dry.kept.map(k => k.ref), ['os@v3', 'os@v2'])
    assert.deepEqual(await refs(again), ['os@v1:complete', 'os@v2:complete', 'os@v3:complete'], 'a dry run removes nothing')

    const served = await again.client.serve({ ref: 'os@v1', port: 0 })
    const keptServed = await cliJson<PruneResultInfo>(a.dataDir, 'image', 'prune')
    assert.deepEqual(keptServed.removed, [])
    assert.match(keptServed.kept.find(k => k.ref === 'os@v1')?.reasons.join() ?? '', /served over NBD/)
    await again.client.unserve(served.id)

    const pruned = await cliJson<PruneResultInfo>(a.dataDir, 'image', 'prune')
    assert.deepEqual(pruned.removed.map(d => d.ref), ['os@v1'])
    assert.ok((pruned.gc?.removed ?? 0) > 0)
    assert.deepEqual(await refs(again), ['os@v2:complete', 'os@v3:complete'])
    const noPolicy = await cli(a.dataDir, 'image', 'prune', 'other')
    assert.equal(noPolicy.code, 4)
    assert.match(noPolicy.stderr, /^cachepoint: image "other" has no retention policy/)
  })

  it('applies the policy after a subscribed version completes', async () => {
    const node = await cluster.start('c', { trustedPublishers: [a.publisherKey], peers: [a.address] })
    await node.stop()
    await setRetention(node, { os: { keepLast: 1 } })
    const c = await cluster.restart('c')
    await c.client.pull({ ref: 'os@v2', from: [a.address] }, () => {})
    await c.client.subscribe('os', 'auto')
    await waitFor(async () => (await c.client.status()).connections > 0, { timeoutMs: 60_000, intervalMs: 100 })
    await a.client.publish('os@v3')
    await waitFor(async () => (await refs(c)).includes('os@v3:complete'), { timeoutMs: 60_000, intervalMs: 100 })
    await waitFor(async () => !(await refs(c)).includes('os@v2:complete'), { timeoutMs: 60_000, intervalMs: 100 })
    assert.deepEqual(await refs(c), ['os@v3:complete'], 'keepLast 1: the older version went when the new one completed')
    const log = await readFile(join(c.dataDir, 'daemon.log'), 'utf8')
    assert.match(log, /retention after os@v3: removed os@v2/)
  })
})
