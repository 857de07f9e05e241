import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { findPostgresBin, startPrivateCluster, type PrivateCluster } from '@cachecloud/dcstore/testing/postgres'
import { DCSTORE_CLI, dcstore, launch, NODE_CHILD, run, treeHashes, type Proc } from './personal-procs.js'

// Several `dcstore serve` processes behind one PostgreSQL index and one
// shared-filesystem block backend (real CLI, real processes, real libp2p on
// loopback): a node replicates to the first, which is killed (SIGKILL)
// mid-replication; the node goes on to the second, which finishes it. Nothing
// is lost (the export is the folder, check --read-data finds nothing) and
// nothing duplicated (one snapshot; the second process wanted only what the
// first had not made durable).
const bin = await findPostgresBin()
if (bin === undefined && process.env.CI === 'true') throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)')

describe('scale-out: two store processes, one PostgreSQL index, one shared block backend', { skip: bin === undefined ? 'Debian postgresql not installed' : false }, () => {
  let dir: string
  let cluster: PrivateCluster
  let global: string[]
  let keyFile: string
  let discoveryPublic: string
  const serves: Proc[] = []

  before(async () => {
    cluster = await startPrivateCluster(bin!)
    dir = await mkdtemp(join(tmpdir(), 'dcstore-scale-'))
    keyFile = join(dir, 'discovery.key')
    discoveryPublic = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    // the data directory (enrollment, audit log, peer key) and the blocks are shared, as on a NAS
    global = ['--data', join(dir, 'store'), '--index-url', `postgres://postgres@127.0.0.1:${cluster.port}/postgres`, '--blocks', `shared-fs:${join(dir, 'blocks')}`]
  })
  after(async () => {
    for (const s of serves) { if (s.child.exitCode === null) s.child.kill('SIGKILL'); await s.exited }
    await cluster?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('the second process takes over a replication the first was killed in: nothing lost, nothing twice', async () => {
    const start = (): Proc => { const p = launch(DCSTORE_CLI, [...global, '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0']); serves.push(p); return p }
    const [a, b] = [start(), start()]
    const addrs = await Promise.all([a, b].map(async p => ((await p.waitFor(e => e.peerId !== undefined)).addrs as string[])[0]))
    const home = join(dir, 'node')
    const folder = join(dir, 'alice')
    await mkdir(folder)
    for (let i = 0; i < 4; i++) await writeFile(join(folder, `part-${i}.bin`), randomBytes(6 * 1024 * 1024))
    await writeFile(join(folder, 'notes.txt'), 'quarterly numbers\n')
    const common = ['--home', home, '--folder', folder, '--user', 'alice', '--discovery', discoveryPublic]
    const snap = JSON.parse((await run(NODE_CHILD, ['snapshot', ...common])).split('\n')[0]) as { newBytes: number }
    const node = JSON.parse(await run(NODE_CHILD, ['peer-id', '--home', home])) as { peerId: string }
    assert.equal((await dcstore(...global, 'enroll', node.peerId, '--user', 'alice')).code, 0)

    const replicating = launch(NODE_CHILD, ['replicate', ...common, '--store', addrs[0], '--store', addrs[1]])
    // past a few of the store's 4 MiB commit points, the first process dies
    await replicating.waitFor(e => e.event === 'progress' && (e.bytes as number) >= 9 * 1024 * 1024, 60_000)
    a.child.kill('SIGKILL')
    await a.exited
    const done = await replicating.waitFor(e => e.event === 'replicated', 60_000) as { replicated: number, bytesSent: number }
    assert.equal(done.replicated, 1)
    assert.ok(done.bytesSent < snap.newBytes, `the second process wanted ${done.bytesSent} of ${snap.newBytes} bytes: what the first made durable is not sent again`)
    assert.ok(done.bytesSent > 0, 'the first process was killed before the end')

    const timeline = await dcstore(...global, '--json', 'discover', 'timeline', '--user', 'alice')
    assert.equal(timeline.code, 0, timeline.stderr)
    assert.equal((JSON.parse(timeline.stdout) as unknown[]).length, 1)
    const exported = await dcstore(...global, '--discovery-key', keyFile, 'discover', 'export', '--user', 'alice', '--to', join(dir, 'case'))
    assert.equal(exported.code, 0, exported.stderr)
    const got = await treeHashes(join(dir, 'case'))
    delete got['MANIFEST.json']
    delete got.SHA256SUMS
    assert.deepEqual(got, await treeHashes(folder))
    const check = await dcstore(...global, '--json', 'check', '--read-data')
    assert.equal(check.code, 0, check.stdout + check.stderr)
    const report = JSON.parse(check.stdout) as { ok: boolean, referencedBlocks: number, readBlocks: number }
    assert.equal(report.ok, true)
    // every block once: the objects on the backend are exactly the blocks the snapshot references
    assert.equal(report.readBlocks, report.referencedBlocks)
    // retention --apply must not delete blocks under a serving process: refused while any serves (exit 11), before it does anything
    const retention = await dcstore(...global, 'retention', '--before', new Date(Date.now() + 60_000).toISOString(), '--apply')
    assert.equal(retention.code, 11, retention.stderr)
    assert.match(retention.stderr, new RegExp(`in use by process ${String(b.child.pid)} \\(dcstore serve\\): stop every serving process first`))
    // the second process still serves, and the node has nothing left to send
    const again = JSON.parse((await run(NODE_CHILD, ['replicate', ...common, '--store', addrs[0], '--store', addrs[1]])).split('\n')[0]) as { replicated: number }
    assert.equal(again.replicated, 0)
  })
})
