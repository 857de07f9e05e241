import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DCSTORE_CLI, dcstore, launch, NODE_CHILD, run, type Proc } from './personal-procs.js'

const PEER = '12D3KooWStoreTestStoreTestStoreTestStoreTest1234'
const EXIT_NOT_FOUND = 4
const EXIT_IN_USE = 11

// The store's data directory through the real `dcstore` CLI: one process
// opens the block stores (serve, retention --apply, export), read commands
// never create a store, and an empty result says so.
describe('dcstore data directory: lock, missing store, empty answers (real CLI)', () => {
  let dir: string
  let data: string
  let keyFile: string
  let discoveryPublic: string
  let serve: Proc | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-cli-'))
    data = join(dir, 'store')
    keyFile = join(dir, 'discovery.key')
    discoveryPublic = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    await run(DCSTORE_CLI, ['--data', data, 'enroll', PEER, '--user', 'alice'])
  })
  after(async () => {
    serve?.child.kill('SIGTERM')
    await serve?.exited
    await rm(dir, { recursive: true, force: true })
  })

  it('a read command on a directory with no store says so (exit 4) and creates nothing', async () => {
    const typo = join(dir, 'typo')
    for (const args of [['discover', 'timeline', '--user', 'alice'], ['discover', 'tree', '--user', 'alice'], ['enrollment'], ['audit', 'verify'], ['retention', '--before', '2026-01-01T00:00:00Z']]) {
      const r = await dcstore('--data', typo, ...args)
      assert.equal(r.code, EXIT_NOT_FOUND, `${args.join(' ')}: ${r.stderr}`)
      assert.equal(r.stderr, `dcstore: no store at ${typo}\n`)
      await assert.rejects(stat(typo), { code: 'ENOENT' }, args.join(' '))
    }
  })

  it('a user with no snapshots: one line and exit 4, not silence', async () => {
    for (const args of [['discover', 'tree', '--user', 'nobody'], ['discover', 'timeline', '--user', 'nobody'], ['discover', 'diff', '--user', 'nobody', '--from', '2026-01-01T00:00:00Z', '--to', '2026-02-01T00:00:00Z']]) {
      const r = await dcstore('--data', data, ...args)
      assert.equal(r.code, EXIT_NOT_FOUND, `${args.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /^dcstore: no snapshots for user nobody( at or before \S+)?\n$/)
      assert.equal(r.stdout, '')
    }
    // a script asking for JSON gets the empty answer
    const json = await dcstore('--data', data, '--json', 'discover', 'timeline', '--user', 'nobody')
    assert.deepEqual([json.code, JSON.parse(json.stdout)], [0, []])
  })

  it('while serve runs, retention --apply, an export and a second serve are refused as "in use" (exit 11); queries and enroll still work', async () => {
    serve = launch(DCSTORE_CLI, ['--data', data, '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0'])
    await serve.waitFor(e => e.peerId !== undefined)
    const pid = String(serve.child.pid)
    // a real snapshot of alice, replicated by a node process
    const ready = serve.events.find(e => e.peerId !== undefined)!
    const home = join(dir, 'node')
    const folder = join(dir, 'alice')
    await mkdir(folder)
    await writeFile(join(folder, 'a.txt'), 'hello\n')
    const common = ['--home', home, '--folder', folder, '--user', 'alice', '--discovery', discoveryPublic]
    await run(NODE_CHILD, ['snapshot', ...common])
    const node = JSON.parse(await run(NODE_CHILD, ['peer-id', '--home', home])) as { peerId: string }
    assert.equal((await dcstore('--data', data, 'enroll', node.peerId, '--user', 'alice')).code, 0)
    await run(NODE_CHILD, ['replicate', ...common, '--store', `${(ready.addrs as string[])[0]}`])
    const exported = await dcstore('--data', data, '--discovery-key', keyFile, 'discover', 'export', '--user', 'alice', '--to', join(dir, 'case'))
    assert.equal(exported.code, EXIT_IN_USE, exported.stderr)
    await assert.rejects(stat(join(dir, 'case')), { code: 'ENOENT' }, 'nothing written before the refusal')
    assert.match((await dcstore('--data', data, 'discover', 'tree', '--user', 'alice')).stdout, / {2}a\.txt\n/)
    const retention = await dcstore('--data', data, 'retention', '--before', new Date().toISOString(), '--apply')
    assert.equal(retention.code, EXIT_IN_USE, retention.stderr)
    assert.equal(retention.stderr, `dcstore: store ${data} is in use by process ${pid} (dcstore serve?): stop it first\n`)
    const second = await dcstore('--data', data, '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0')
    assert.equal(second.code, EXIT_IN_USE, second.stderr)
    // read-only queries of the index and the audit log, and enrollment, run beside it
    assert.equal((await dcstore('--data', data, 'retention', '--before', new Date().toISOString())).code, 0)
    assert.equal((await dcstore('--data', data, 'enroll', PEER, '--user', 'bob')).code, 0)
    assert.match((await dcstore('--data', data, 'enrollment')).stdout, /alice,bob/)
    assert.equal((await dcstore('--data', data, 'audit', 'verify')).code, 0)
    serve.child.kill('SIGTERM')
    assert.equal(await serve.exited, 0)
    serve = undefined
    assert.equal((await dcstore('--data', data, '--discovery-key', keyFile, 'discover', 'export', '--user', 'alice', '--to', join(dir, 'case'))).code, 0)
    const applied = await dcstore('--data', data, 'retention', '--before', new Date().toISOString(), '--apply')
    assert.equal(applied.code, 0, applied.stderr)
    assert.match(applied.stdout, /^removed 1 snapshots/)
  })

  it('a lock file left empty or naming a dead process (a crash) is taken over: the store lock and the audit log lock', async () => {
    await writeFile(join(data, 'store.lock'), '')
    const r1 = await dcstore('--data', data, 'retention', '--before', new Date().toISOString(), '--apply')
    assert.equal(r1.code, 0, r1.stderr)
    await writeFile(join(data, 'store.lock'), '999999999\n')
    assert.equal((await dcstore('--data', data, 'retention', '--before', new Date().toISOString(), '--apply')).code, 0)
    await writeFile(join(data, 'audit.jsonl.lock'), '')
    const t0 = Date.now()
    const r2 = await dcstore('--data', data, 'enroll', PEER, '--user', 'carol')
    assert.equal(r2.code, 0, r2.stderr)
    assert.ok(Date.now() - t0 < 5_000, 'did not wait for the lock timeout')
    await assert.rejects(readFile(join(data, 'store.lock')), { code: 'ENOENT' })
    assert.equal((await dcstore('--data', data, 'audit', 'verify')).code, 0)
  })
})
