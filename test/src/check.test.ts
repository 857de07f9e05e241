import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { open, readdir, rm, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { API_PREFIX, readEndpoint, type CheckResultInfo } from '@cachecloud/control'
import { makeExt4Image, sha256File } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { cli } from './cli-run.js'
import { createTestCluster, type TestCluster } from './nodes.js'

async function check (node: LaunchedCachePoint, ...args: string[]): Promise<{ code: number | null, report: CheckResultInfo, stderr: string }> {
  const r = await cli(node.dataDir, '--json', 'check', ...args)
  return { code: r.code, report: JSON.parse(r.stdout) as CheckResultInfo, stderr: r.stderr }
}

// Issue 14, "Integrity check": pack bytes corrupted, a pack deleted and the index log cut short while the
// daemon runs; each is found, the versions it affects named, exit 6, and --repair fetches what was lost.
describe('cachepoint check (real daemons)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let b: LaunchedCachePoint
  let osFile: string
  let appFile: string

  before(async () => {
    cluster = await createTestCluster('check')
    osFile = join(cluster.dir, 'os.raw')
    appFile = join(cluster.dir, 'app.raw')
    // two images, about 190 MB of blocks: b's store gets two packs (a pack is sealed at 128 MiB)
    await makeExt4Image({ path: osFile, sizeMiB: 160, seed: 'check-os', fill: 0.7 })
    await makeExt4Image({ path: appFile, sizeMiB: 128, seed: 'check-app', fill: 0.6 })
    a = await cluster.start('a')
    await a.client.importImage({ file: osFile, name: 'os', version: 'v1' }, () => {})
    await a.client.importImage({ file: appFile, name: 'app', version: 'v1' }, () => {})
    b = await cluster.start('b', { trustedPublishers: [a.publisherKey] })
    await b.client.pull({ ref: 'os@v1', from: [a.address] }, () => {})
    await b.client.pull({ ref: 'app@v1', from: [a.address] }, () => {})
  })
  after(async () => { await cluster.close() })

  it('refuses malformed check, rm and prune requests with 400 and a one-line reason, before any work', async () => {
    const endpoint = await readEndpoint(b.dataDir)
    for (const [path, body, reason] of [
      ['/check', '{"readData": "yes"}', /"readData" must be true or false/],
      ['/check', `{"from": ${JSON.stringify(Array.from({ length: 65 }, () => '/ip4/127.0.0.1'))}}`, /"from" must be a list of at most 64/],
      ['/check', '{"readDataSubset": 5}', /"readDataSubset" must be N\/T or P%/],
      ['/images/rm', `{"ref": "${'x'.repeat(400)}"}`, /"ref" must be NAME@VERSION/],
      ['/images/prune', '[]', /request body must be a JSON object/]
    ] as const) {
      const response = await fetch(`${endpoint.url}${API_PREFIX}${path}`, { method: 'POST', headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' }, body })
      assert.equal(response.status, 400, path)
      const answer = await response.json() as { error: { code: string, message: string } }
      assert.equal(answer.error.code, 'ERR_BAD_REQUEST')
      assert.match(answer.error.message, reason)
    }
  })

  it('finds nothing on a healthy store, with and without --read-data (exit 0)', async () => {
    const quick = await check(b)
    assert.equal(quick.code, 0, quick.stderr)
    assert.equal(quick.report.ok, true)
    assert.equal(quick.report.data, null)
    assert.deepEqual(quick.report.versions.map(v => [v.ref, v.damaged]), [['app@v1', false], ['os@v1', false]])
    const full = await check(b, '--read-data')
    assert.equal(full.code, 0, full.stderr)
    assert.equal(full.report.data?.corruptBlocks, 0)
    assert.equal(full.report.data?.blocks, (await b.client.status()).store.blocks, 'every block read')
    const subset = await check(b, '--read-data-subset', '1/4')
    assert.equal(subset.code, 0)
    const part = subset.report.data?.blocks ?? 0
    assert.ok(part > 0 && part < (full.report.data?.blocks ?? 0) / 2, `a quarter or so: ${part}`)
    const bad = await cli(b.dataDir, 'check', '--read-data-subset', '5/4')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /^cachepoint: --read-data-subset must be N\/T/)
  })

  it('finds corrupt pack bytes (--read-data), a deleted pack and a cut index log; names the versions; repairs from a peer', async () => {
    const packsDir = join(b.dataDir, 'store', 'packs')
    const packs = (await readdir(packsDir)).filter(f => f.endsWith('.pack')).sort()
    assert.ok(packs.length >= 2, `two packs at least: ${packs.join(', ')}`)
    // 1. 64 KiB of garbage in the middle of the first pack
    const first = join(packsDir, packs[0] as string)
    const handle = await open(first, 'r+')
    await handle.write(Buffer.alloc(64 * 1024, 0xa5), 0, 64 * 1024, Math.floor((await stat(first)).size / 2))
    await handle.close()
    // 2. the last pack deleted
    await rm(join(packsDir, packs.at(-1) as string))
    // 3. the index log cut to half
    const log = join(b.dataDir, 'store', 'index.log')
    await truncate(log, Math.floor((await stat(log)).size / 2))

    const quick = await check(b)
    assert.equal(quick.code, 6, 'damage: exit 6')
    assert.equal(quick.report.ok, false)
    assert.deepEqual(quick.report.store.missingPacks.length, 1, 'the deleted pack')
    assert.ok(quick.report.store.unreadableBlocks > 0)
    assert.match(quick.report.store.indexLog ?? '', /committed index changes are lost/)
    assert.ok(quick.report.damaged.length >= 1, 'the versions in the deleted pack')
    assert.equal(quick.report.data, null)

    const full = await check(b, '--read-data')
    assert.equal(full.code, 6)
    assert.ok((full.report.data?.corruptBlocks ?? 0) >= 1, 'the garbage in the first pack is found by reading')
    assert.ok(full.report.problems.some(p => /not hash to its CID/.test(p)))
    assert.ok(full.report.versions.filter(v => v.damagedBlocks > 0).length >= 1)
    const human = await cli(b.dataDir, 'check', '--read-data')
    assert.equal(human.code, 6)
    assert.match(human.stdout, /DAMAGED/)
    assert.match(human.stdout, /damage found \(exit 6\); repair with: cachepoint check --repair/)
    assert.equal((await b.client.images()).every(v => v.state === 'complete'), true, 'check alone changes nothing')

    const repaired = await check(b, '--read-data', '--repair', '--from', a.address)
    assert.equal(repaired.code, 0, JSON.stringify({ problems: repaired.report.problems, repair: repaired.report.repair }))
    assert.equal(repaired.report.ok, true)
    assert.deepEqual([...repaired.report.repair?.repaired ?? []].sort(), [...full.report.damaged].sort())
    assert.deepEqual(repaired.report.repair?.failed, [])

    const again = await check(b, '--read-data')
    assert.equal(again.code, 0, JSON.stringify(again.report.problems))
    for (const [ref, file] of [['os@v1', osFile], ['app@v1', appFile]] as const) {
      const out = join(cluster.dir, `${ref}.out`)
      await b.client.exportImage({ ref, file: out }, () => {})
      assert.equal(await sha256File(out), await sha256File(file), `${ref} bit-identical after repair`)
    }
    // the rewritten index log holds the whole store: after a restart nothing is lost or re-verified
    await b.stop()
    b = await cluster.restart('b')
    const restarted = await check(b, '--read-data')
    assert.equal(restarted.code, 0, JSON.stringify(restarted.report.problems))
    assert.deepEqual((await b.client.images()).map(v => v.state), ['complete', 'complete'])
  })

  it('finds an unreadable catalog entry and repairs it by pulling the version again (its blocks are still held)', async () => {
    await writeFile(join(b.dataDir, 'catalog', 'refs', 'os', 'v1.json'), '{"v": 1, "cid": ')
    const found = await check(b)
    assert.equal(found.code, 6)
    assert.deepEqual(found.report.catalog.damagedRefs.map(d => d.ref), ['os@v1'])
    assert.match(found.report.problems.join('\n'), /catalog entry os@v1 is unreadable/)
    const repaired = await check(b, '--repair', '--from', a.address)
    assert.equal(repaired.code, 0, JSON.stringify(repaired.report.repair))
    assert.deepEqual(repaired.report.repair?.repaired, ['os@v1'])
    const out = join(cluster.dir, 'os-ref.out')
    await b.client.exportImage({ ref: 'os@v1', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(osFile))
  })

  it('without a peer holding the version, --repair says so and exits 6', async () => {
    const packsDir = join(b.dataDir, 'store', 'packs')
    const packs = (await readdir(packsDir)).filter(f => f.endsWith('.pack')).sort()
    await rm(join(packsDir, packs.at(-1) as string))
    await a.stop()
    const r = await check(b, '--repair', '--from', a.address)
    assert.equal(r.code, 6)
    assert.ok((r.report.repair?.failed.length ?? 0) >= 1)
    assert.equal(r.report.ok, false)
  })
})
