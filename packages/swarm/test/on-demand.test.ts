import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { RateBudget } from '../src/rate.js'
import { SwarmScheduler, type SwarmWant } from '../src/scheduler.js'

const wants = (n: number): SwarmWant[] => Array.from({ length: n }, (_, i) => ({ cid: cidOf(randomBytes(16)), length: 1024, index: i }))

describe('swarm scheduler and reads on demand', () => {
  it('a block stored by a read on demand is skipped: counted done, never handed out', () => {
    const w = wants(4)
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0 })
    s.updatePeer('a', true, { state: 'complete', site: 'x' })
    assert.equal(s.skip(w[2].cid), true)
    assert.equal(s.skip(w[2].cid), false, 'once')
    assert.equal(s.remaining, 3)
    const taken = s.take('a', 1 << 20, 16)
    assert.equal(taken.length, 3)
    assert.ok(!taken.includes(w[2]))
    // a copy the pull had in flight may still arrive: it is not counted twice
    for (const t of taken) s.received('a', t)
    assert.equal(s.remaining, 0)
  })

  it('while held back (reads fetching), no new block is handed out; released, the pull goes on', async () => {
    const w = wants(4)
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0 })
    s.updatePeer('a', true, { state: 'complete', site: 'x' })
    const release = s.hold()
    const release2 = s.hold()
    assert.deepEqual(s.take('a', 1 << 20, 16), [])
    assert.ok(s.mayHaveWorkFor('a'), 'sessions wait instead of ending')
    const woken = s.changed()
    release()
    release()
    assert.deepEqual(s.take('a', 1 << 20, 16), [], 'still held by the second fetch')
    release2()
    await woken
    assert.equal(s.take('a', 1 << 20, 16).length, 4)
  })
})
