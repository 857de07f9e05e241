import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runOk, seededBytes, sha256File } from '@cachecloud/fixtures'
import type { CommitResultInfo, DiffInfo, OverlayInfo } from '@cachecloud/control'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { cli, cliJson } from './cli-run.js'
import { createTestCluster, type TestCluster } from './nodes.js'

const MiB = 1024 * 1024
const BLOCK = 256 * 1024

async function until (predicate: () => Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await predicate())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

/**
 * Issue 15, commit: writes through a writable export (qemu-io) become a new signed version
 * whose parent is the base; only the written blocks are stored, moved and listed.
 */
describe('image commit: an overlay becomes the next version (real daemons, qemu-io, qemu-img)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let base: string
  let readBefore: string

  before(async () => {
    cluster = await createTestCluster('clones')
    base = join(cluster.dir, 'base.raw')
    // random content: every block of the base is data, so a write of zeros makes a new hole
    await writeFile(base, seededBytes('clones-base', 32 * MiB))
    a = await cluster.start('a')
    await a.client.importImage({ file: base, name: 'os', version: 'v1' }, () => {})
  })

  after(async () => { await cluster.close() })

  it('commits exactly the written blocks; a commit of an overlay in use is refused with exit 11', async () => {
    const e = await a.client.serve({ ref: 'os@v1', port: 0, overlay: 'dev' })
    // blocks 4-5 (half of each), 32 (zeros: a hole), 80 (64 KiB of one block: the rest from the base)
    await runOk('qemu-io', ['-f', 'raw', '-c', 'write -P 0xab 1152k 256k', '-c', 'write -z 8M 256k', '-c', 'write -P 0x5c 20M 64k', '-c', 'flush', e.uri])
    readBefore = join(cluster.dir, 'read-before.raw')
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', e.uri, readBefore])
    const inUse = await cli(a.dataDir, 'image', 'commit', 'dev', '--as', 'os@v2')
    assert.equal(inUse.code, 11, inUse.stderr)
    assert.match(inUse.stderr, /overlay dev is in use by the export at 127\.0\.0\.1:\d+: stop it before committing it/)
    assert.equal(inUse.stderr.trim().split('\n').length, 1, inUse.stderr)
    await a.client.unserve(e.id)

    const r = await cliJson<CommitResultInfo>(a.dataDir, 'image', 'commit', 'dev', '--as', 'os@v2')
    assert.equal(r.parent, 'os@v1')
    assert.equal(r.writtenBlocks, 4)
    assert.equal(r.holes, 1)
    assert.equal(r.newBlocks, 3)
    assert.equal(r.newBytes, 3 * BLOCK)
    const v2 = (await a.client.images()).find(v => v.name === 'os' && v.version === 'v2')
    const v1 = (await a.client.images()).find(v => v.name === 'os' && v.version === 'v1')
    assert.ok(v1 !== undefined && v2 !== undefined)
    assert.equal(v2.state, 'complete')
    assert.equal(v2.parent, v1.cid)

    const again = await cli(a.dataDir, 'image', 'commit', 'dev', '--as', 'os@v2')
    assert.equal(again.code, 5, again.stderr)
    assert.match(again.stderr, /os@v2 already exists/)
    const none = await cli(a.dataDir, 'image', 'commit', 'nosuch', '--as', 'os@v9')
    assert.equal(none.code, 4, none.stderr)
    assert.match(none.stderr, /no overlay named nosuch/)
    const d = await cliJson<DiffInfo>(a.dataDir, 'image', 'diff', 'os@v1', 'os@v2')
    assert.deepEqual(d.changed, [4, 5, 32, 80])
    assert.equal(d.changedBlocks, 4)
    assert.equal(d.fetchBytes, 3 * BLOCK)

    const out = join(cluster.dir, 'v2.raw')
    await a.client.exportImage({ ref: 'os@v2', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(readBefore))
    // the overlay is kept as it was
    const dev = (await a.client.overlays()).find(o => o.name === 'dev') as OverlayInfo
    assert.equal(dev.writtenBytes, 9 * 64 * 1024)
    assert.equal(dev.inUseBy, null)
  })

  it('a pull of the committed version to a node holding the base moves only the written blocks', async () => {
    const b = await cluster.start('b', { trustedPublishers: [a.publisherKey], peers: [a.address] })
    await until(async () => (await b.client.status()).connections > 0, 20_000, 'b connected')
    await b.client.pull({ ref: 'os@v1' }, () => {})
    const p = await b.client.pull({ ref: 'os@v2' }, () => {})
    assert.equal(p.fetchedBlocks, 3)
    assert.equal(p.fetchedBytes, 3 * BLOCK)
    const out = join(cluster.dir, 'b-v2.raw')
    await b.client.exportImage({ ref: 'os@v2', file: out }, () => {})
    assert.equal(await sha256File(out), await sha256File(readBefore))
    // --publish: a subscriber hears of the committed version and pulls it on its own
    await b.client.subscribe('os', 'auto')
    const r = await cliJson<CommitResultInfo>(a.dataDir, 'image', 'commit', 'dev', '--as', 'os@v2p', '--publish')
    assert.equal(r.published, true)
    await until(async () => (await b.client.images()).some(v => v.version === 'v2p' && v.state === 'complete'), 20_000, 'the subscriber pulled the published commit')
  })

  it('kill -9 during a commit leaves no version or a complete one, and the overlay intact', async (t) => {
    const e = await a.client.serve({ ref: 'os@v1', port: 0, overlay: 'big' })
    // random bytes: each block is hashed, compressed and stored (a pattern would compress to nothing)
    const noise = join(cluster.dir, 'noise.bin')
    await writeFile(noise, seededBytes('clones-noise', 30 * MiB))
    await runOk('qemu-io', ['-f', 'raw', '-c', `write -s ${noise} 0 30M`, '-c', 'write -P 0x22 31M 512k', '-c', 'flush', e.uri])
    const expected = join(cluster.dir, 'big-before.raw')
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', e.uri, expected])
    await a.client.unserve(e.id)
    const dir = join(a.dataDir, 'overlays', 'big')
    const mapBefore = await readFile(join(dir, 'map'))
    const dataBefore = await sha256File(join(dir, 'data'))
    // while a commit reads the overlay, nothing else may take it: another commit, a writable export
    let started: () => void = () => {}
    const running = new Promise<void>(resolve => { started = resolve })
    const first = a.client.commitOverlay({ name: 'big', ref: 'os@c1' }, (p) => { if (p.done > 0) started() })
    await running
    await assert.rejects(a.client.commitOverlay({ name: 'big', ref: 'os@c2' }, () => {}), { code: 'ERR_OVERLAY_IN_USE', message: /overlay big is in use by a commit/ })
    await assert.rejects(a.client.serve({ ref: 'os@v1', port: 0, overlay: 'big' }), { code: 'ERR_OVERLAY_IN_USE' })
    assert.equal((await first).writtenBlocks, 122)
    // the refused commit did not release the first one's claim early, and the claim is gone now
    const e2 = await a.client.serve({ ref: 'os@v1', port: 0, overlay: 'big' })
    await a.client.unserve(e2.id)
    let node: LaunchedCachePoint = a
    const outcomes: string[] = []
    const total = 122 * BLOCK
    // killed: before any block, after the first block stored, once every block is stored (before the manifest and its ref)
    const moments: Array<[string, (done: number) => boolean]> = [['at once', () => true], ['after the first block', (d) => d > 0], ['after the last block', (d) => d >= total]]
    for (const [i, [moment, when]] of moments.entries()) {
      const ref = `os@k${i}`
      let done = 0
      let reached: () => void = () => {}
      const kill = new Promise<void>(resolve => { reached = resolve })
      if (when(0)) reached()
      const commit = node.client.commitOverlay({ name: 'big', ref }, (e) => { done = Math.max(done, e.done); if (when(done)) reached() }).then(() => 'done', (err: Error) => err.message)
      await Promise.race([kill, commit])
      await node.kill()
      const said = await commit
      node = await cluster.restart('a')
      const v = (await node.client.images()).find(x => `${x.name}@${x.version}` === ref)
      outcomes.push(`${moment}: ${v === undefined ? 'no version' : v.state} (${said === 'done' ? 'finished' : 'interrupted'} after ${done} of ${total} bytes)`)
      if (v !== undefined) {
        assert.equal(v.state, 'complete')
        const out = join(cluster.dir, `k${i}.raw`)
        await node.client.exportImage({ ref, file: out }, () => {})
        assert.equal(await sha256File(out), await sha256File(expected), `${ref} after a kill ${moment}`)
      }
      assert.deepEqual(await readFile(join(dir, 'map')), mapBefore)
      assert.equal(await sha256File(join(dir, 'data')), dataBefore)
    }
    t.diagnostic(`kill -9 after: ${outcomes.join('; ')}`)
    assert.ok(outcomes.some(o => /^after the first block: no version \(interrupted after [1-9]\d* of/.test(o)), 'a kill came after some blocks were stored and before the version')
    // and the overlay still commits whole afterwards
    const t0 = performance.now()
    const r = await node.client.commitOverlay({ name: 'big', ref: 'os@after' }, () => {})
    t.diagnostic(`a commit of ${r.writtenBlocks} written blocks took ${(performance.now() - t0).toFixed(0)} ms`)
    assert.equal(r.writtenBlocks, 122)
    a = node as typeof a
  })
})
