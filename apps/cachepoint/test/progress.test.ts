import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { meter } from '../src/progress.js'
import { manualClock } from '@cachecloud/test-utils'

describe('progress meter', () => {
  it('has no rate until a quarter of a second has passed, then rate and ETA from what moved', () => {
    const clock = manualClock(1000)
    const measure = meter(clock.now)
    assert.deepEqual(measure({ done: 0, total: 1000 }), { rate: null, eta: null })
    clock.advance(100)
    assert.deepEqual(measure({ done: 100, total: 1000 }), { rate: null, eta: null })
    clock.advance(400)
    const { rate, eta } = measure({ done: 500, total: 1000 })
    assert.equal(rate, 1000)
    assert.equal(eta, 0.5)
  })

  it('gives a finished operation its rate and ETA 0, however quickly it ran (a fast disk: 96 MiB in 40 ms)', () => {
    const clock = manualClock(1000)
    const measure = meter(clock.now)
    const total = 96 * 1024 * 1024
    measure({ done: 1024 * 1024, total })
    clock.advance(20)
    assert.equal(measure({ done: total / 2, total }).rate, null)
    clock.advance(20)
    const last = measure({ done: total, total })
    assert.equal(last.eta, 0)
    assert.ok(last.rate !== null && last.rate > 0, `rate at 100%: ${String(last.rate)}`)
  })

  it('measures a resumed pull from the bytes it already had', () => {
    const clock = manualClock(1000)
    const measure = meter(clock.now)
    measure({ done: 900, total: 1000 })
    clock.advance(1000)
    assert.deepEqual(measure({ done: 1000, total: 1000 }), { rate: 100, eta: 0 })
  })
})
