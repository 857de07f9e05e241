import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildStore } from '@cachecloud/dcstore/testing'
import { dcstore } from './cli.js'

describe('dcstore check (real CLI)', () => {
  let dir: string
  let data: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-check-cli-'))
    data = join(dir, 'store')
    await mkdir(data)
    await buildStore(data, ['alice', 'bob'])
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('a healthy store: exit 0, a summary, no progress when stderr is not a terminal', async () => {
    const r = await dcstore(['--data', data, 'check', '--read-data'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stderr, '')
    assert.match(r.stdout, /^checked 2 users, 4 snapshots, \d+ referenced blocks; read and verified \d+ blocks \(1\.\d MiB\) in [\d.]+ s, .*\/s\nno damage found\n$/)
  })

  it('a deleted pack: exit 6, the damage and the snapshots it affects, also as JSON', async () => {
    const packs = join(data, 'blocks', 'bob', 'packs')
    await rm(join(packs, (await readdir(packs))[0]))
    const r = await dcstore(['--data', data, 'check'])
    assert.equal(r.code, 6, r.stderr)
    assert.match(r.stdout, /^damaged: user bob: packs\/00000001\.pack is missing: \d+ indexed blocks lost \(/m)
    assert.equal(r.stdout.match(/^affected: user bob snapshot \S+ of node \S+ at \S+: \d+ bad block references$/mg)?.length, 2)
    assert.match(r.stdout, /1 damage found, 2 snapshots affected\n$/)
    const json = await dcstore(['--data', data, '--json', 'check'])
    assert.equal(json.code, 6)
    const report = JSON.parse(json.stdout) as { ok: boolean, damage: Array<{ user: string, kind: string }>, affected: Array<{ user: string }> }
    assert.equal(report.ok, false)
    assert.deepEqual(report.damage.map(d => [d.user, d.kind]), [['bob', 'pack-missing']])
  })

  it('--repair: drops the lost entries, names the node that must replicate; check then exits 6 with the same; a shared backend is refused', async () => {
    const r = await dcstore(['--data', data, 'check', '--repair'])
    assert.equal(r.code, 6, r.stderr)
    assert.match(r.stdout, /^before: damaged: user bob: packs\/00000001\.pack is missing/m)
    assert.match(r.stdout, /^repair: dropped \d+ block entries that were lost or failed verification; block stores of user bob recovered and their index logs rewritten in [\d.]+ s$/m)
    assert.match(r.stdout, /^waiting: user bob: 2 snapshots of node 12D3KooWCheckTest\S+ lack blocks until that node replicates again/m)
    assert.match(r.stdout, /repaired here; 2 snapshots wait for replication \(exit 6 until then\)\n$/)
    const pending = JSON.parse(await readFile(join(data, 'repair-pending.json'), 'utf8')) as { format: string, snapshots: Array<{ user: string, node: string }> }
    assert.equal(pending.format, 'cachecloud/dcstore-repair-pending/1')
    assert.deepEqual(pending.snapshots.map(p => p.user), ['bob', 'bob'])
    const again = await dcstore(['--data', data, 'check'])
    assert.equal(again.code, 6)
    assert.match(again.stdout, /^damaged: user bob: 2 snapshots of node (\S+) lack blocks a repair dropped: node \1 must replicate user bob \(its next replication re-sends them\)$/m)
    assert.match(again.stdout, /^affected: user bob snapshot \S+ of node \S+ at \S+: \d+ bad block references; waiting since \S+ for node \S+ to replicate$/m)
    assert.doesNotMatch(again.stdout, /repair with/, 'nothing left that a repair here can do')
    const shared = await dcstore(['--data', data, '--blocks', `shared-fs:${join(dir, 'shared')}`, 'check', '--repair'])
    assert.equal(shared.code, 2)
    assert.match(shared.stderr, /^dcstore: check --repair repairs the local block directory; the shared-fs backend/)

    // a damaged list: check says so in one line (exit 6); a repair recomputes it
    await writeFile(join(data, 'repair-pending.json'), '{"format":"cachecloud/dcstore-repair-pending/1","snapshots":[{"user":')
    const garbled = await dcstore(['--data', data, 'check'])
    assert.equal(garbled.code, 6)
    assert.match(garbled.stderr, /^dcstore: \S+repair-pending\.json is not JSON: [^\n]*\n$/)
    const redo = await dcstore(['--data', data, 'check', '--repair'])
    assert.equal(redo.code, 6, redo.stderr)
    assert.match(redo.stdout, /^waiting: user bob: 2 snapshots of node /m)
  })

  it('a bad --read-data-subset is a usage error; a read command never creates a store', async () => {
    const bad = await dcstore(['--data', data, 'check', '--read-data-subset', '150%'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /give N% \(0-100\) or n\/m/)
    const none = await dcstore(['--data', join(dir, 'typo'), 'check'])
    assert.equal(none.code, 4)
    assert.equal(none.stderr, `dcstore: no store at ${join(dir, 'typo')}\n`)
  })
})
