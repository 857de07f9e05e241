import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { open, mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { findTool, makeExt4Image, run, runOk, seededBytes, sha256File } from '@cachecloud/fixtures'
import type { ExportInfo } from '@cachecloud/control'
import { initLoopbackNode, type LaunchedCachePoint } from 'cachepoint/launcher'
import { createHash } from 'node:crypto'
import { createTestCluster, type TestCluster } from './nodes.js'
import { waitFor } from '@cachecloud/test-utils'

const MiB = 1024 * 1024
const BLOCK = 256 * 1024

async function exportOf (node: LaunchedCachePoint, port: number): Promise<ExportInfo> {
  const e = (await node.client.exports()).find(x => x.port === port)
  assert.ok(e !== undefined, `export on port ${port}`)
  return e
}

/** Indexes of the 256 KiB blocks of a file that are not all zeros (holes read with no network). */
async function dataBlocks (file: string, from: number, to: number): Promise<number[]> {
  const fh = await open(file, 'r')
  try {
    const out: number[] = []
    const buf = Buffer.alloc(BLOCK)
    for (let i = from; i < to; i++) {
      await fh.read(buf, 0, BLOCK, i * BLOCK)
      if (buf.some(b => b !== 0)) out.push(i)
    }
    return out
  } finally { await fh.close() }
}

/** Starts a node whose config gets `extra` fields (e.g. a WAN budget) before its daemon starts. */
async function startWith (cluster: TestCluster, name: string, options: Parameters<TestCluster['start']>[1], extra: Record<string, unknown>): Promise<LaunchedCachePoint> {
  const dir = join(cluster.dir, name)
  await initLoopbackNode(dir, options)
  const config = JSON.parse(await readFile(join(dir, 'config.json'), 'utf8')) as Record<string, unknown>
  await writeFile(join(dir, 'config.json'), JSON.stringify({ ...config, ...extra }, null, 2))
  return await cluster.restart(name)
}

/**
 * Issue 7 with real daemons, real NBD clients (qemu-img, nbdfuse + debugfs) and real ext4 images:
 * a version served before it has arrived.
 */
describe('NBD exports served on demand from the swarm (real daemons)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let c: LaunchedCachePoint
  let mid: string
  let big: string
  const payload = seededBytes('nbd-payload', 24 * MiB)

  before(async () => {
    cluster = await createTestCluster('nbd')
    mid = join(cluster.dir, 'mid.raw')
    big = join(cluster.dir, 'big.raw')
    await makeExt4Image({ path: mid, sizeMiB: 128, seed: 'nbd-mid' })
    await makeExt4Image({ path: big, sizeMiB: 1024, seed: 'nbd-big', fill: 0.1, files: { '/srv/payload.bin': payload } })
    a = await cluster.start('a')
    await a.client.importImage({ file: mid, name: 'os', version: 'mid' }, () => {})
    await a.client.importImage({ file: big, name: 'os', version: 'big' }, () => {})
  })

  after(async () => { await cluster.close() })

  it('qemu-img convert from a node holding none of the blocks is bit-identical, while the background pull runs', async (t) => {
    // the background pull is held to 40 Mbit/s by this node's WAN budget; reads on demand are not
    const b = await startWith(cluster, 'b', { trustedPublishers: [a.publisherKey], peers: [a.address] }, { wan: { maxRate: '40mbit' } })
    await waitFor(async () => (await b.client.status()).connections > 0, { timeoutMs: 20_000, what: 'b connected' })
    const e = await b.client.serve({ ref: 'os@mid', port: 0 })
    assert.equal(e.reads.fetchedBytes, 0)
    assert.equal(e.size, (await stat(mid)).size)
    const out = join(cluster.dir, 'b-mid.raw')
    const t0 = Date.now()
    const copy = runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', e.uri, out])
    let copying = true
    void copy.finally(() => { copying = false }).catch(() => {})
    // sample while the copy runs: both the reads on demand and the background pull make progress
    const samples: ExportInfo[] = []
    while (copying) {
      samples.push(await exportOf(b, e.port))
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    await copy
    t.diagnostic(`copy of ${e.size} bytes through the export: ${Date.now() - t0} ms, ${samples.length} samples`)
    const during = await exportOf(b, e.port)
    // reads come first (the pull yields while they fetch), but the pull runs all along and counts the blocks they stored
    assert.ok(samples.some(s => s.background.state === 'pulling' && s.background.bytesDone > 0 && s.reads.fetchedBytes > 0), 'the background pull was running during the copy')
    assert.equal(await sha256File(out), await sha256File(mid))
    assert.ok(during.reads.fetchedBytes > 0 && during.reads.onDemandReads > 0)
    assert.equal(during.reads.failedReads, 0)
    await waitFor(async () => (await exportOf(b, e.port)).background.state === 'complete', { timeoutMs: 60_000, what: 'background pull complete' })
    const done = await exportOf(b, e.port)
    const data = (await dataBlocks(mid, 0, Math.ceil(done.size / BLOCK))).length * BLOCK
    const pulled = (await b.client.swarmStatus()).pulls.find(p => p.ref === 'os@mid')
    assert.ok(pulled !== undefined)
    // each block crossed once: on demand or by the pull, not both; a block the pull had requested when a
    // read needed it may cross twice (at most the pull's window, 16 MiB per peer)
    const moved = done.reads.fetchedBytes + pulled.lanBytes + pulled.wanBytes
    t.diagnostic(`moved ${moved} bytes for ${data} bytes of data (${done.reads.fetchedBytes} on demand)`)
    assert.ok(moved >= data && moved <= data + 64 * BLOCK, `moved ${moved} bytes for ${data} bytes of data`)
    // complete: reads are local only
    const before = done.reads.fetchedBytes
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', e.uri, out])
    assert.equal((await exportOf(b, e.port)).reads.fetchedBytes, before)
    const text = await run('node', [join(process.cwd(), 'apps/cachepoint/dist/src/cli.js'), '--data-dir', b.dataDir, 'status'])
    assert.match(text.stdout, /NBD exports:/)
    assert.match(text.stdout, /complete \(all reads local\)/)
    await b.client.unserve(e.id)
  })

  it('reading the first 8 MiB of a 1 GiB image from a fresh node moves about 8 MiB', async () => {
    c = await cluster.start('c', { trustedPublishers: [a.publisherKey], peers: [a.address] })
    await waitFor(async () => (await c.client.status()).connections > 0, { timeoutMs: 20_000, what: 'c connected' })
    const e = await c.client.serve({ ref: 'os@big', port: 0, pull: false })
    assert.equal(e.background.state, 'off')
    const out = join(cluster.dir, 'c-8m.raw')
    await runOk('qemu-img', ['dd', '-f', 'raw', '-O', 'raw', 'bs=1M', 'count=8', `if=${e.uri}`, `of=${out}`])
    const want = createHash('sha256').update((await readFile(big)).subarray(0, 8 * MiB)).digest('hex')
    assert.equal(await sha256File(out), want)
    const r = (await exportOf(c, e.port)).reads
    const data = (await dataBlocks(big, 0, 8 * MiB / BLOCK)).length * BLOCK
    assert.equal(r.fetchedBytes, data, `fetched ${r.fetchedBytes} bytes; the first 8 MiB hold ${data} bytes of non-zero blocks`)
    assert.ok(r.wireBytes < data * 1.01 + 4096, `wire bytes ${r.wireBytes}`)
    const store = (await c.client.status()).store.physicalBytes
    assert.ok(store < 9 * MiB, `store holds ${store} bytes after an 8 MiB read of a 1 GiB image`)
  })

  it('debugfs reads a file out of the ext4 inside the export (through nbdfuse) while most blocks are still remote', async (t) => {
    if (await findTool('nbdfuse') === undefined || await findTool('fusermount3') === undefined) { t.skip('needs nbdfuse (libnbd-bin) and fusermount3 (fuse3)'); return }
    if (!existsSync('/dev/fuse')) { t.skip('needs /dev/fuse (FUSE in this container)'); return }
    const e = (await c.client.exports()).find(x => x.ref === 'os@big')
    assert.ok(e !== undefined)
    const mnt = join(cluster.dir, 'mnt')
    await mkdir(mnt, { recursive: true })
    const fuse = spawn('nbdfuse', ['-r', mnt, e.uri], { stdio: 'ignore' })
    try {
      await waitFor(async () => (await stat(join(mnt, 'nbd')).catch(() => undefined))?.size === e.size, { timeoutMs: 20_000, what: 'nbdfuse mount' })
      const out = join(cluster.dir, 'payload.out')
      await runOk('debugfs', ['-R', `dump /srv/payload.bin ${out}`, join(mnt, 'nbd')])
      assert.equal(await sha256File(out), createHash('sha256').update(payload).digest('hex'))
    } finally {
      await run('fusermount3', ['-u', mnt])
      await new Promise(resolve => { if (fuse.exitCode !== null) resolve(undefined); else fuse.once('exit', resolve) })
    }
    const r = (await c.client.exports()).find(x => x.ref === 'os@big')?.reads
    assert.ok(r !== undefined)
    assert.ok(r.fetchedBytes >= payload.byteLength, `fetched ${r.fetchedBytes}`)
    assert.ok(r.fetchedBytes < 0.1 * e.size, `fetched ${r.fetchedBytes} bytes of a ${e.size}-byte image: most blocks stay remote`)
  })

  it('the CLI: serve, a writable overlay, exports and overlays listed, one-line errors and exit codes for bad input', async () => {
    const cli = async (...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> =>
      await run('node', [join(process.cwd(), 'apps/cachepoint/dist/src/cli.js'), '--data-dir', c.dataDir, ...args])
    const served = await cli('--json', 'image', 'serve', 'os@mid', '--nbd', '127.0.0.1:0', '--writable', 'vm1', '--no-pull')
    assert.equal(served.code, 0, served.stderr)
    const e = JSON.parse(served.stdout) as ExportInfo
    assert.equal(e.writable, true)
    assert.equal(e.overlay, 'vm1')
    await runOk('qemu-io', ['-f', 'raw', e.uri, '-c', 'write -P 0x5a 1048576 65536', '-c', 'flush'])
    await runOk('qemu-io', ['-f', 'raw', '-r', e.uri, '-c', 'read -P 0x5a 1048576 65536'])
    const inUse = await cli('image', 'serve', 'os@mid', '--nbd', `127.0.0.1:${e.port}`)
    assert.equal(inUse.code, 11, inUse.stderr)
    assert.match(inUse.stderr, /already in use/)
    assert.equal(inUse.stderr.trim().split('\n').length, 1, 'one line')
    const twice = await cli('image', 'serve', 'os@mid', '--nbd', '127.0.0.1:0', '--writable', 'vm1')
    assert.equal(twice.code, 11)
    assert.match(twice.stderr, /in use by the export at/)
    const unknown = await cli('image', 'serve', 'os@nope', '--nbd', '127.0.0.1:0')
    assert.equal(unknown.code, 4, unknown.stderr) // an unknown version is not found (exit 4), as for pull
    assert.match(unknown.stderr, /os@nope/)
    const bad = await cli('image', 'serve', 'os@mid', '--nbd', 'localhost:99999')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--nbd localhost:99999/)
    const list = await cli('image', 'exports')
    assert.match(list.stdout, new RegExp(`nbd://127.0.0.1:${e.port}.*os@mid.*overlay vm1`))
    const overlays = JSON.parse((await cli('--json', 'image', 'overlays')).stdout) as Array<{ name: string, inUseBy: string | null, writtenBytes: number }>
    assert.deepEqual(overlays.map(o => [o.name, o.inUseBy, o.writtenBytes]), [['vm1', e.id, 65536]])
    const busy = await cli('image', 'discard-overlay', 'vm1')
    assert.equal(busy.code, 11)
    assert.equal((await cli('image', 'unserve', e.id)).code, 0)
    assert.equal((await cli('image', 'unserve', e.id)).code, 4, 'gone')
    // the overlay survives unserve: served again, the write is there
    const again = JSON.parse((await cli('--json', 'image', 'serve', 'os@mid', '--nbd', '127.0.0.1:0', '--writable', 'vm1', '--no-pull')).stdout) as ExportInfo
    await runOk('qemu-io', ['-f', 'raw', '-r', again.uri, '-c', 'read -P 0x5a 1048576 65536'])
    await cli('image', 'unserve', again.id)
    const discarded = await cli('image', 'discard-overlay', 'vm1')
    assert.equal(discarded.code, 0, discarded.stderr)
    assert.equal((await cli('image', 'discard-overlay', 'vm1')).code, 4)
    const status = JSON.parse((await cli('--json', 'status')).stdout) as { exports: ExportInfo[] }
    assert.deepEqual(status.exports.map(x => x.ref), ['os@big'])
  })

  it('exports survive a daemon restart, at the same address; blocks fetched before are local', async () => {
    const [before] = await c.client.exports()
    await c.stop()
    c = await cluster.restart('c')
    const after = await c.client.exports()
    assert.deepEqual(after.map(x => [x.ref, x.id, x.background.state]), [['os@big', before.id, 'off']])
    const out = join(cluster.dir, 'c-8m-again.raw')
    await runOk('qemu-img', ['dd', '-f', 'raw', '-O', 'raw', 'bs=1M', 'count=8', `if=${after[0].uri}`, `of=${out}`])
    assert.equal(await sha256File(out), createHash('sha256').update((await readFile(big)).subarray(0, 8 * MiB)).digest('hex'))
    assert.equal((await c.client.exports())[0].reads.fetchedBytes, 0, 'read from the blocks fetched before the restart')
  })

  it('a peer dying mid-read: the read completes from another peer; with no peer left, reads fail with EIO within the timeout', async () => {
    const d = await cluster.start('d', { trustedPublishers: [a.publisherKey], peers: [a.address] })
    await d.client.pull({ ref: 'os@mid', from: [a.address] }, () => {})
    const e = await cluster.start('e', { trustedPublishers: [a.publisherKey], peers: [a.address, d.address] })
    await waitFor(async () => (await e.client.status()).connections >= 2, { timeoutMs: 20_000, what: 'e connected to a and d' })
    const mids = await e.client.serve({ ref: 'os@mid', port: 0, pull: false })
    const bigs = await e.client.serve({ ref: 'os@big', port: 0, pull: false, fetchTimeoutMs: 2000 })
    const out = join(cluster.dir, 'e-mid.raw')
    const copy = run('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', mids.uri, out])
    let atKill = 0
    await waitFor(async () => (atKill = (await exportOf(e, mids.port)).reads.fetchedBytes) >= 4 * MiB, { timeoutMs: 30_000, what: '4 MiB read' })
    const byPeer = (await exportOf(e, mids.port)).reads.fetchedByPeer
    const top = Object.entries(byPeer).sort((x, y) => y[1] - x[1])[0][0]
    const [victim, survivor] = top === a.status.peerId ? [a, d] : [d, a]
    await victim.kill()
    const result = await copy
    assert.equal(result.code, 0, result.stderr)
    assert.ok(atKill < mids.size / 2, `killed after ${atKill} bytes of ${mids.size}`)
    assert.equal(await sha256File(out), await sha256File(mid))
    const after = (await exportOf(e, mids.port)).reads
    assert.ok((after.fetchedByPeer[survivor.status.peerId] ?? 0) > 0, 'the survivor served the rest')
    assert.equal(after.failedReads, 0)

    await survivor.kill()
    const block = (await dataBlocks(big, 64, 4096))[0]
    const t0 = Date.now()
    // qemu-img 7.2 dd: count is where input ends (in bs units), not how much follows skip
    const failed = await run('qemu-img', ['dd', '-f', 'raw', '-O', 'raw', 'bs=256k', `skip=${block}`, `count=${block + 1}`, `if=${bigs.uri}`, `of=${join(cluster.dir, 'e-none.raw')}`])
    const ms = Date.now() - t0
    assert.notEqual(failed.code, 0, `no peer holds block ${block}: the read fails; ${JSON.stringify((await exportOf(e, bigs.port)).reads)} ${JSON.stringify(await e.client.peers())}`)
    assert.match(failed.stderr, /Input\/output error/)
    assert.ok(ms < 10_000, `failed after ${ms} ms (fetch timeout 2 s)`)
    assert.ok((await exportOf(e, bigs.port)).reads.failedReads >= 1)
  })
})
