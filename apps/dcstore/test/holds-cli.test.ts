import assert from 'node:assert/strict'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { buildStore } from '@cachecloud/dcstore/testing'
import { dcstore } from './cli.js'

describe('dcstore matter and hold (real CLI)', () => {
  let dir: string
  let data: string
  let env: Record<string, string>
  const run = async (...args: string[]): ReturnType<typeof dcstore> => await dcstore(['--data', data, '--operator', 'jane', ...args], env)
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-holds-cli-'))
    data = join(dir, 'store')
    await mkdir(data)
    await buildStore(data, ['alice', 'bob'], { shared: 1000, own: 1000 })
    assert.equal((await dcstore(['--data', data, 'audit', 'keygen', '--out', join(dir, 'audit.key')])).code, 0)
    env = { DCSTORE_AUDIT_KEY: join(dir, 'audit.key') }
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('creates a matter, places a hold; retention keeps what it holds and says so; released, retention removes it', async () => {
    const made = await run('matter', 'create', 'M-7', '--name', 'Phoenix v. Acme', '--custodian', 'alice', 'bob')
    assert.equal(made.code, 0, made.stderr)
    assert.match(made.stdout, /^created matter M-7 {2}Phoenix v\. Acme {2}custodians alice,bob {2}all time {2}created \S+ by jane\n$/)
    assert.equal((await run('matter', 'create', 'M-7', '--name', 'again', '--custodian', 'alice')).stderr, 'dcstore: matter M-7 exists already\n')
    const placed = await run('--json', 'hold', 'place', '--matter', 'M-7', '--custodian', 'alice', '--reason', 'complaint served')
    assert.equal(placed.code, 0, placed.stderr)
    const hold = JSON.parse(placed.stdout) as { id: string, placedBy: string }
    assert.equal(hold.placedBy, 'jane')
    const outsider = await run('hold', 'place', '--matter', 'M-7', '--custodian', 'carol', '--reason', 'x')
    assert.deepEqual([outsider.code, outsider.stderr], [2, 'dcstore: carol is not a custodian of matter M-7 (custodians: alice, bob)\n'])
    const nomatter = await run('hold', 'place', '--matter', 'M-8', '--custodian', 'alice', '--reason', 'x')
    assert.deepEqual([nomatter.code, nomatter.stderr], [4, 'dcstore: no matter "M-8"\n'])
    const badTime = await run('hold', 'place', '--matter', 'M-7', '--custodian', 'alice', '--reason', 'x', '--from', 'yesterday')
    assert.equal(badTime.code, 2)
    assert.match((await run('hold', 'ls')).stdout, new RegExp(`^${hold.id}  M-7  alice  all time  \\*  placed \\S+ by jane: complaint served\\n$`))

    const dry = await run('retention', '--before', new Date(Date.now() + 60_000).toISOString())
    assert.equal(dry.code, 0, dry.stderr)
    assert.match(dry.stdout, /^would remove 2 snapshots committed before \S+\nkept 2 snapshots that legal holds need:\n {2}alice {2}2026-11-01T00:00:00\.000Z {2}\S+ {2}held by hold-\w+\n {2}alice {2}2026-11-01T01:00:00\.000Z/)
    const applied = await run('retention', '--before', new Date(Date.now() + 60_000).toISOString(), '--apply')
    assert.match(applied.stdout, /^removed 2 snapshots .*\nkept 2 snapshots/)
    assert.match((await run('discover', 'timeline', '--user', 'alice', '--matter', 'M-7')).stdout, /^(\S+ .*\n){2}$/)

    const released = await run('hold', 'release', hold.id, '--reason', 'settled')
    assert.equal(released.code, 0, released.stderr)
    assert.match(released.stdout, /RELEASED \S+ by jane: settled\n$/)
    assert.equal((await run('hold', 'release', hold.id, '--reason', 'again')).code, 4)
    assert.equal((await run('hold', 'ls')).stdout, '')
    assert.match((await run('retention', '--before', new Date(Date.now() + 60_000).toISOString(), '--apply')).stdout, /^removed 2 snapshots [^\n]*\n$/)

    const show = await run('matter', 'show', 'M-7')
    assert.equal(show.code, 0, show.stderr)
    // the refused attempts (a second create, a second release) are in the trail too, with their failure
    assert.deepEqual([...show.stdout.matchAll(/^\d+ {2}\S+ {2}intent {2}(\S+)/mg)].map(m => m[1]), ['matter-create', 'matter-create', 'hold-place', 'timeline', 'hold-release', 'hold-release'])
    assert.equal([...show.stdout.matchAll(/^\d+ {2}\S+ {2}outcome {2}\S+ .*"ok":false,"error":"ERR_(MATTER_EXISTS|HOLD_NOT_FOUND)"/mg)].length, 2)
  })
})
