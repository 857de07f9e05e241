import assert from 'node:assert/strict'
import { mkdir, mkdtemp, readdir, rm } from 'node:fs/promises'
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

  it('a bad --read-data-subset is a usage error; a read command never creates a store', async () => {
    const bad = await dcstore(['--data', data, 'check', '--read-data-subset', '150%'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /give N% \(0-100\) or n\/m/)
    const none = await dcstore(['--data', join(dir, 'typo'), 'check'])
    assert.equal(none.code, 4)
    assert.equal(none.stderr, `dcstore: no store at ${join(dir, 'typo')}\n`)
  })
})
