import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createRateWindow } from '../src/rate.js'

/** A clock the test moves by hand, in milliseconds. */
function manualClock (): { now: () => number, advance: (ms: number) => void } {
  let t = 10_000
  return { now: () => t, advance: (ms) => { t += ms } }
}

describe('rate window', () => {
  it('is unknown until the samples span the minimum, then gives the rate and the ETA at it', () => {
    const clock = manualClock()
    const w = createRateWindow({ now: clock.now, minSpanMs: 250 })
    assert.deepEqual(w.read(), { rate: null, etaSeconds: null }, 'no sample yet')
    w.record(0, 1000)
    clock.advance(200)
    w.record(200, 1000)
    assert.deepEqual(w.read(), { rate: null, etaSeconds: null }, 'under the minimum span')
    clock.advance(300)
    w.record(500, 1000)
    assert.deepEqual(w.read(), { rate: 1000, etaSeconds: 0.5 })
  })

  it('averages over the last window only: an early burst stops counting', () => {
    const clock = manualClock()
    const w = createRateWindow({ now: clock.now, windowMs: 5000 })
    w.record(0, 1_000_000)
    clock.advance(1000)
    w.record(900_000, 1_000_000) // 900 kB in the first second
    for (let i = 1; i <= 10; i++) {
      clock.advance(1000)
      w.record(900_000 + i * 1000, 1_000_000) // then 1 kB/s
    }
    const { rate, etaSeconds } = w.read()
    assert.ok(rate !== null && Math.abs(rate - 1000) < 1, `rate ${String(rate)}`)
    assert.ok(etaSeconds !== null && Math.abs(etaSeconds - 90) < 0.1, `eta ${String(etaSeconds)}`)
  })

  it('falls while nothing moves (read at the clock\'s now), and an ETA needs a rate above 0', () => {
    const clock = manualClock()
    const w = createRateWindow({ now: clock.now })
    w.record(0, 100)
    clock.advance(1000)
    w.record(10, 100)
    assert.equal(w.read().rate, 10)
    clock.advance(9000)
    assert.equal(w.read().rate, 1, 'ten bytes over ten seconds')
    const still = createRateWindow({ now: clock.now })
    still.record(5, 100)
    clock.advance(1000)
    still.record(5, 100)
    assert.deepEqual(still.read(), { rate: 0, etaSeconds: null })
  })

  it('a finished operation reports its average over its whole run and ETA 0, however quickly it ran', () => {
    const clock = manualClock()
    const w = createRateWindow({ now: clock.now })
    w.record(0, 96)
    clock.advance(20)
    w.record(96, 96) // done reached the total: finished
    assert.deepEqual(w.read(), { rate: 4800, etaSeconds: 0 })
    clock.advance(60_000)
    assert.deepEqual(w.read(), { rate: 4800, etaSeconds: 0 }, 'a finished rate does not decay')
  })

  it('finish() ends an operation of unknown total; one that took no time has ETA 0 and no rate', () => {
    const clock = manualClock()
    const w = createRateWindow({ now: clock.now })
    w.record(100, 0)
    clock.advance(2000)
    w.record(300, 0)
    w.finish()
    assert.deepEqual(w.read(), { rate: 100, etaSeconds: 0 }, 'measured from the first sample: a resumed operation\'s earlier bytes do not count')
    const instant = createRateWindow({ now: clock.now })
    instant.record(10, 10)
    assert.deepEqual(instant.read(), { rate: null, etaSeconds: 0 })
    const empty = createRateWindow({ now: clock.now })
    empty.finish()
    assert.deepEqual(empty.read(), { rate: null, etaSeconds: 0 })
  })
})
