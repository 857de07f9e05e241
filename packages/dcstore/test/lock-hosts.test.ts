import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises'
import { hostname, tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { FOREIGN_LOCK_STALE_MS } from '../src/constants.js'
import { lockStore, tryLockFile } from '../src/lock.js'

// A store's data directory on a NAS is locked by processes on several hosts:
// a pid from another host says nothing here, so its lock holds until it goes unrefreshed.
describe('lock files shared by several hosts', () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'dclock-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('a lock held by a process on another host is respected while it is fresh', async () => {
    const path = join(dir, 'store.lock')
    await writeFile(path, '4242 other-host.example\n')
    const got = await tryLockFile(path)
    assert.deepEqual(got, { heldBy: 4242, host: 'other-host.example' })
    await assert.rejects(lockStore(path, dir), { code: 'ERR_STORE_IN_USE', message: `store ${dir} is in use by process 4242 on host other-host.example (dcstore serve?): stop it first` })
    assert.equal(await readFile(path, 'utf8'), '4242 other-host.example\n')
  })

  it('another host\'s lock not refreshed for FOREIGN_LOCK_STALE_MS is taken over', async () => {
    const path = join(dir, 'old.lock')
    await writeFile(path, '4242 other-host.example\n')
    const old = new Date(Date.now() - FOREIGN_LOCK_STALE_MS - 5000)
    await utimes(path, old, old)
    const got = await tryLockFile(path)
    assert.ok('release' in got)
    assert.equal(await readFile(path, 'utf8'), `${process.pid} ${hostname()}\n`)
    await got.release()
  })

  it('a lock of this host whose process is gone is taken over (also in the one-field format of before)', async () => {
    const path = join(dir, 'dead.lock')
    await writeFile(path, '999999999\n')
    const got = await tryLockFile(path)
    assert.ok('release' in got)
    await got.release()
    await writeFile(path, `999999999 ${hostname()}\n`)
    const again = await tryLockFile(path)
    assert.ok('release' in again)
    await again.release()
  })
})
