import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PullStats } from '../src/stats.js'
import { manualClock } from '@cachecloud/test-utils'

describe('swarm pull stats: rate and ETA by core\'s rate window', () => {
  it('rate over the window while pulling (ETA rounded up), the average and ETA 0 once complete, none when paused', () => {
    const clock = manualClock(7000)
    const stats = new PullStats('os@1', clock.now)
    stats.begin(10, 10_000)
    assert.deepEqual([stats.info().rate, stats.info().etaSeconds], [0, null], 'unknown at first')
    clock.advance(1000)
    stats.stored('peer-a', true, 1000)
    clock.advance(1000)
    stats.stored('peer-a', true, 1000)
    stats.storedElsewhere(1000) // an on-demand read stored one: progress all the same
    const pulling = stats.info()
    assert.equal(pulling.rate, 1500)
    assert.equal(pulling.etaSeconds, 5, '7000 bytes left at 1500/s: 4.67 s, rounded up')
    stats.state = 'paused'
    assert.deepEqual([stats.info().rate, stats.info().etaSeconds], [0, null])
    stats.state = 'pulling'
    clock.advance(2000)
    for (let i = 0; i < 7; i++) stats.stored('peer-b', false, 1000)
    stats.state = 'complete'
    clock.advance(60_000)
    const done = stats.info()
    assert.equal(done.rate, 2500, '10 000 bytes over the 4 s it ran, however long ago')
    assert.equal(done.etaSeconds, 0)
    assert.equal(done.bytesDone, 10_000)
  })
})
