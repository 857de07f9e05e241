import assert from 'node:assert/strict'
import { access } from 'node:fs/promises'
import { describe, it } from 'node:test'
import { TempDirs, until, waitFor, WaitTimeoutError } from '../src/index.js'

describe('test-utils', () => {
  it('waitFor resolves once the predicate holds, sync or async', async () => {
    let n = 0
    await waitFor(() => ++n >= 3, { intervalMs: 1 })
    assert.equal(n, 3)
    await waitFor(async () => ++n >= 5, { intervalMs: 1 })
    assert.equal(n, 5)
  })

  it('until returns the value that satisfied it, and names what it waited for and the last value when it times out', async () => {
    let n = 0
    assert.deepEqual(await until(() => ({ n: ++n }), v => v.n === 2, { intervalMs: 1 }), { n: 2 })
    await assert.rejects(until(() => ({ pending: 1 }), v => v.pending === 0, { timeoutMs: 30, intervalMs: 5, what: 'replication' }),
      (err: Error) => err instanceof WaitTimeoutError && /waiting for replication; last: \{"pending":1\}/.test(err.message))
  })

  it('a look that throws fails the wait, unless told to count it as not yet', async () => {
    await assert.rejects(waitFor(() => { throw new Error('down') }), /down/)
    let n = 0
    await waitFor(() => { if (++n < 3) throw new Error('starting'); return true }, { intervalMs: 1, ignoreErrors: true })
    await assert.rejects(waitFor(() => { throw new Error('still down') }, { timeoutMs: 20, intervalMs: 5, ignoreErrors: true }), /last look failed: still down/)
  })

  it('TempDirs removes every directory it made', async () => {
    const dirs = new TempDirs()
    const made = [await dirs.make(), await dirs.make('other-')]
    await dirs.removeAll()
    for (const dir of made) await assert.rejects(access(dir))
  })
})
