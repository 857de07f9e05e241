import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { InvalidRateError, parseRate } from '../src/index.js'
import { RateBudget } from '../src/rate.js'
import { SwarmScheduler, type SwarmWant } from '../src/scheduler.js'

const wants = (n: number): SwarmWant[] => Array.from({ length: n }, (_, i) => ({ cid: cidOf(randomBytes(16)), length: 1024, index: i }))
const bitmap = (n: number, held: number[]): Uint8Array => { const b = new Uint8Array(Math.ceil(n / 8)); for (const i of held) b[i >> 3] |= 1 << (i & 7); return b }

describe('swarm scheduler', () => {
  it('takes the rarest blocks first', () => {
    const w = wants(4)
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0 })
    s.updatePeer('a', true, { state: 'complete', site: 'x' })
    s.updatePeer('b', true, { state: 'partial', site: 'x', count: 4, bitmap: bitmap(4, [0, 1, 2]) })
    // block 3 is held by one peer only, 0-2 by two: a asks for 3 first
    assert.equal(s.take('a', 1024, 1)[0], w[3])
  })

  it('over the WAN takes only what no same-site peer holds, and only this node share of the site', () => {
    const w = wants(64)
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0, initialWindowBytes: 1 << 20 })
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' })
    s.updatePeer('sibling', true, { state: 'partial', site: 'b', count: 64, bitmap: bitmap(64, [0, 1, 2, 3]) })
    const taken = s.take('dc', 1 << 20, 1024)
    assert.ok(taken.length > 8 && taken.length < 56, `took ${taken.length} of 60 over the WAN: about half is the sibling's share`)
    for (const t of taken) assert.ok(!w.slice(0, 4).includes(t as SwarmWant), 'never a block the sibling holds')
    // the sibling's share is not taken over the WAN by this node while the sibling is alive
    assert.equal(s.take('dc', 1 << 20, 1024).length, 0)
  })

  it('deprioritizes a peer that refuses blocks it advertised', () => {
    const w = wants(8)
    const penalties: string[] = []
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0, onPenalty: (p) => { penalties.push(p) } })
    s.updatePeer('liar', true, { state: 'complete', site: 'x' })
    const [a, b] = s.take('liar', 2048, 2)
    s.notFound('liar', a)
    s.notFound('liar', b)
    assert.deepEqual(penalties, ['liar'])
    assert.ok(s.isPenalized('liar'))
    assert.equal(s.take('liar', 1 << 20, 1024).length, 0)
  })
})

describe('WAN rate budget', () => {
  it('parses rates and refuses nonsense', () => {
    assert.equal(parseRate('2mbit'), 250_000)
    assert.equal(parseRate('10MB'), 10_000_000)
    assert.equal(parseRate(1234), 1234)
    assert.throws(() => parseRate('fast'), InvalidRateError)
  })

  it('holds a sender to the rate, and follows the schedule by hour', async () => {
    const budget = new RateBudget({ maxRate: 1_000_000 })
    const t0 = performance.now()
    for (let i = 0; i < 20; i++) await budget.take(25_000) // 500 kB at 1 MB/s, 250 kB burst
    const seconds = (performance.now() - t0) / 1000
    assert.ok(seconds > 0.2 && seconds < 0.6, `took ${seconds} s`)
    const office = new RateBudget({ maxRate: '100mbit', schedule: [{ from: 8, to: 18, maxRate: '2mbit' }] }, () => new Date(2026, 0, 1, 10))
    assert.equal(office.rate, 250_000)
    const night = new RateBudget({ maxRate: '100mbit', schedule: [{ from: 8, to: 18, maxRate: '2mbit' }] }, () => new Date(2026, 0, 1, 22))
    assert.equal(night.rate, 12_500_000)
  })
})
