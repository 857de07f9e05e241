import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { manualClock } from '@cachecloud/test-utils'
import { InvalidRateError, parseRate } from '../src/index.js'
import { RateBudget } from '../src/rate.js'
import { SwarmScheduler, type SwarmWant } from '../src/scheduler.js'
import { Bitmap } from '../src/bitmap.js'
import { FENCE_MARGIN_MS } from '../src/constants.js'
import type { HaveAnswer } from '../src/have-wire.js'

const wants = (n: number): SwarmWant[] => Array.from({ length: n }, (_, i) => ({ cid: cidOf(randomBytes(16)), length: 1024, index: i }))
const bitmap = (
  n: number,
  held: number[]
): Uint8Array => { const b = new Uint8Array(Math.ceil(n / 8)); for (const i of held) b[i >> 3] |= 1 << (i & 7); return b }

const partial = (n: number, held: number[], claimed: number[]): HaveAnswer => ({ state: 'partial', site: 'b', count: n, bitmap: bitmap(n, held), claimed: bitmap(n, claimed) })

/** A scheduler of `n` blocks on a hand-moved clock that the data center answered (holding everything) at its start. */
function onManualClock (n: number): { w: SwarmWant[], clock: ReturnType<typeof manualClock>, s: SwarmScheduler, t0: number } {
  const w = wants(n)
  const clock = manualClock()
  const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0, initialWindowBytes: 1 << 20, now: clock.now })
  const t0 = clock.now()
  s.updatePeer('dc', false, { state: 'complete', site: 'dc' }, t0)
  return { w, clock, s, t0 }
}

describe('swarm scheduler', () => {
  it('runs the start delay from when the pull was asked for, not from when its manifest was resolved', () => {
    const clock = manualClock()
    const asked = clock.now()
    clock.advance(1000) // resolving the manifest
    const s = new SwarmScheduler({ self: 'me', wants: wants(4), wan: new RateBudget(), wanStartDelayMs: 1500, lanWaitMs: 0, requestedAt: asked, now: clock.now })
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' }, clock.now())
    assert.equal(s.wanBlocker(), 'start delay')
    clock.advance(499)
    assert.equal(s.wanBlocker(), 'start delay')
    clock.advance(1)
    assert.equal(s.wanBlocker(), undefined)
    assert.equal(s.take('dc', 1 << 20, 1024).length, 4)
    // a time after the scheduler's start counts as its start
    const later = new SwarmScheduler({ self: 'me', wants: wants(4), wan: new RateBudget(), wanStartDelayMs: 1500, lanWaitMs: 0, requestedAt: clock.now() + 5000, now: clock.now })
    clock.advance(1500)
    assert.equal(later.wanBlocker(), undefined)
  })

  it('takes the rarest blocks first', () => {
    const w = wants(4)
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0 })
    s.updatePeer('a', true, { state: 'complete', site: 'x' })
    s.updatePeer('b', true, { state: 'partial', site: 'x', count: 4, bitmap: bitmap(4, [0, 1, 2]), claimed: bitmap(4, []) })
    // block 3 is held by one peer only, 0-2 by two: a asks for 3 first
    assert.equal(s.take('a', 1024, 1)[0], w[3])
  })

  it('over the WAN takes only what no same-site peer holds or claims, and only this node share of the site, after the fence', () => {
    const w = wants(64)
    const claims = new Bitmap(64)
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0, initialWindowBytes: 1 << 20, claims })
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' })
    const t0 = performance.now()
    s.updatePeer('sibling', true, partial(64, [0, 1, 2, 3], [4, 5, 6, 7]), t0)
    // the sibling has not asked what this node holds: it may not count this node yet
    assert.equal(s.take('dc', 1 << 20, 1024).length, 0)
    assert.match(s.wanBlocker() ?? '', /to ask this node's holdings/)
    s.polledBy('sibling', t0)
    // asked, but its answer predates that: its later claims are unknown
    assert.equal(s.take('dc', 1 << 20, 1024).length, 0)
    s.updatePeer('sibling', true, partial(64, [0, 1, 2, 3], [4, 5, 6, 7]), t0 + FENCE_MARGIN_MS)
    assert.equal(s.wanBlocker(), undefined)
    const taken = s.take('dc', 1 << 20, 1024)
    assert.ok(taken.length > 8 && taken.length < 52, `took ${taken.length} of 56 over the WAN: about half is the sibling's share`)
    for (const t of taken) assert.ok(!w.slice(0, 8).includes(t as SwarmWant), 'never a block the sibling holds or claims')
    // this node's claims are what it requested over the WAN, answered to its site
    assert.equal(claims.count, taken.length)
    s.received('dc', taken[0])
    assert.equal(claims.count, taken.length - 1)
    // the sibling's share is not taken over the WAN by this node while the sibling keeps asking
    assert.equal(s.take('dc', 1 << 20, 1024).length, 0)
  })

  it('a member that stops asking (killed) keeps its share for stallMs, then loses it, and gets it back when it asks again', () => {
    const w = wants(64)
    const clock = manualClock()
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0, initialWindowBytes: 1 << 20, stallMs: 300, now: clock.now })
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' })
    const t0 = clock.now()
    s.polledBy('sibling', t0)
    s.updatePeer('sibling', true, partial(64, [], []), t0 + FENCE_MARGIN_MS)
    const share = s.take('dc', 1 << 20, 1024)
    const mine = share.length
    assert.ok(mine > 0 && mine < 64)
    for (const want of w) s.release('dc', [want])
    // killed: have requests fail while the dc still answers, then the sibling is forgotten
    const t1 = clock.now()
    s.haveFailed('sibling', t1)
    assert.match(s.wanBlocker() ?? '', /reachable/)
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' }, t1 + 1)
    s.haveFailed('sibling', t1)
    s.haveFailed('sibling', t1)
    assert.equal(s.wanBlocker(), undefined, 'gone for good')
    // within stallMs it keeps its share
    assert.equal(s.take('dc', 1 << 20, 1024).length, mine)
    clock.advance(299)
    assert.equal(s.take('dc', 1 << 20, 1024).length, 0, 'still its share 1 ms before stallMs')
    clock.advance(51)
    assert.equal(s.take('dc', 1 << 20, 1024).length, 64 - mine, 'then this node takes the rest')
    for (const want of w) s.release('dc', [want])
    // back (restarted): it asks again and answers; its claims are respected
    const t2 = clock.now()
    s.polledBy('sibling', t2)
    s.updatePeer('sibling', true, partial(64, [], [1, 2]), t2)
    const again = s.take('dc', 1 << 20, 1024)
    assert.deepEqual(new Set(again), new Set(share.filter(t => t !== w[1] && t !== w[2])), 'its own share again, never what the sibling claims')
  })

  it('a node whose own link is cut does not forget its site, and fetches nothing over the WAN until its site answers again', () => {
    const w = wants(32)
    const s = new SwarmScheduler({ self: 'me', wants: w, wan: new RateBudget(), wanStartDelayMs: 0, initialWindowBytes: 1 << 20 })
    const t0 = performance.now()
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' }, t0)
    s.polledBy('sibling', t0)
    s.updatePeer('sibling', true, partial(32, [0, 1, 2, 3, 4, 5, 6, 7], []), t0 + FENCE_MARGIN_MS)
    // cut: every request fails, the data center's too; nothing answered after them
    for (let i = 0; i < 5; i++) { s.haveFailed('sibling', t0 + 1000 + i); s.haveFailed('dc', t0 + 1000 + i) }
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' }, t0 + 2000)
    // back: the data center answers first; the sibling's failures came from this node's own link
    assert.match(s.wanBlocker() ?? '', /no same-site peer reachable/)
    assert.equal(s.take('dc', 1 << 20, 1024).length, 0)
    s.updatePeer('sibling', true, partial(32, [0, 1, 2, 3, 4, 5, 6, 7], []), t0 + 2001)
    const taken = s.take('dc', 1 << 20, 1024)
    assert.ok(taken.length > 0)
    for (const t of taken) assert.ok(!w.slice(0, 8).includes(t as SwarmWant), 'what the site holds stays LAN')
  })

  // the multi-site test's laptop, cut for 2.5 s at the start of a pull, had seen a same-site peer pulling just before
  // the cut; the peer's requests to ask its holdings could not reach it while the link was down, yet 3 s after that
  // first answer it took the peer as not pulling (and its share with it), whatever the time left after the link returned
  it('a same-site puller that could not ask this node\'s holdings while this node\'s link was down gets FENCE_WAIT_MS again once the link is back', () => {
    const { clock, s, t0 } = onManualClock(32)
    s.updatePeer('sibling', true, partial(32, [], []), t0)
    assert.match(s.wanBlocker() ?? '', /to ask this node's holdings/)
    // the link is cut: requests to the sibling and the data center fail
    clock.advance(500)
    for (let i = 0; i < 4; i++) { s.haveFailed('sibling', t0 + 500 + i * 500); s.haveFailed('dc', t0 + 500 + i * 500) }
    // back 2.5 s later: both answer, the sibling still pulling and not yet having asked
    clock.advance(2100)
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' }, clock.now())
    s.updatePeer('sibling', true, partial(32, [], []), clock.now())
    const back = clock.now()
    clock.advance(900) // 3.5 s after the sibling was first seen, 0.9 s after the link returned
    assert.match(s.wanBlocker() ?? '', /to ask this node's holdings/, 'the sibling had no chance to ask yet')
    assert.equal(s.take('dc', 1 << 20, 1024).length, 0)
    clock.advance(back + 3000 - clock.now())
    assert.equal(s.wanBlocker(), undefined, 'silent for FENCE_WAIT_MS with the link up: not pulling')
  })

  // the multi-site test's laptop, cut 1.5 s into a pull: its branch's members had answered "not pulling yet" just
  // before, its next have requests hung on the cut link (answered 3.4-4 s later), and after the start delay it took
  // blocks over the WAN as the branch's only puller; its members meanwhile fetched them too
  it('no WAN request while no peer has answered anything since this node\'s have requests went out (its link is down), however stale its view', () => {
    const { clock, s, t0 } = onManualClock(32)
    s.updatePeer('sibling', true, { state: 'none', site: 'b' }, t0)
    // the next round of have requests goes out, and nothing comes back
    clock.advance(900)
    s.haveSent('dc', clock.now())
    s.haveSent('sibling', clock.now())
    clock.advance(400)
    assert.equal(s.wanBlocker(), undefined, 'answers a few hundred ms late are normal')
    clock.advance(200)
    assert.match(s.wanBlocker() ?? '', /no answer from any peer .* link may be down/)
    assert.equal(s.take('dc', 1 << 20, 1024).length, 0)
    // back: the sibling is pulling now, and gets its time to ask this node's holdings from now (it may have started
    // its pull only now, 3.9 s after its first answer)
    clock.advance(2500)
    s.updatePeer('sibling', true, partial(32, [], []), t0 + 900)
    assert.match(s.wanBlocker() ?? '', /to ask this node's holdings/)
  })

  // the same laptop, once some of its branch answered again: the members whose last answer (before the cut) said
  // "not pulling" were still unanswered, and it took their share as if they did not pull; and a member that had seen
  // the laptop pulling took the laptop's share 3 s after, its own requests to the laptop hanging on the cut link
  it('a same-site peer whose request hangs is not taken as it last answered: not pulling, or pulling and never asking', () => {
    const { clock, s, t0 } = onManualClock(32)
    s.polledBy('fenced', t0)
    s.updatePeer('fenced', true, partial(32, [], []), t0)
    s.updatePeer('late', true, { state: 'none', site: 'b' }, t0)
    s.updatePeer('quiet', true, partial(32, [], []), t0)
    clock.advance(900)
    for (const peer of ['dc', 'fenced', 'late', 'quiet']) s.haveSent(peer, clock.now())
    clock.advance(300)
    s.updatePeer('dc', false, { state: 'complete', site: 'dc' }, t0 + 900)
    s.updatePeer('fenced', true, partial(32, [], []), t0 + 900)
    clock.advance(2000) // 'late' and 'quiet' unanswered for 2.3 s
    assert.match(s.wanBlocker() ?? '', /new answer of same-site peer late/)
    s.updatePeer('late', true, partial(32, [], []), t0 + 900)
    clock.advance(1000) // 4.2 s after 'quiet' was first seen pulling, its request still in flight
    assert.match(s.wanBlocker() ?? '', /peer (late|quiet) to ask this node's holdings/)
    // the request fails (its timeout): it is taken as it last was, a peer that does not ask
    s.haveFailed('quiet', t0 + 900)
    s.polledBy('late', clock.now())
    s.updatePeer('late', true, partial(32, [], []), clock.now() + FENCE_MARGIN_MS)
    assert.equal(s.wanBlocker(), undefined)
  })

  it('slow have answers do not stop WAN requests while blocks keep arriving (a saturated link)', () => {
    const { clock, s } = onManualClock(32)
    s.polledBy('sibling', clock.now())
    s.updatePeer('sibling', true, partial(32, [], []), clock.now() + FENCE_MARGIN_MS)
    const first = s.take('dc', 1 << 20, 2)
    assert.equal(first.length, 2)
    s.haveSent('dc', clock.now())
    clock.advance(600)
    s.received('dc', first[0])
    clock.advance(400)
    assert.equal(s.wanBlocker(), undefined, 'a block arrived after the request went out: the link works')
    assert.ok(s.take('dc', 1 << 20, 1024).length > 0)
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

  it('holds a sender to the rate, and follows the schedule by hour', () => {
    const clock = manualClock()
    const budget = new RateBudget({ maxRate: 1_000_000 }, clock.date, clock.now)
    // 250 kB of burst at 1 MB/s: ten 25 kB sends pass at once, the eleventh waits
    for (let i = 0; i < 10; i++) assert.ok(budget.tryTake(25_000), `send ${i} within the burst`)
    assert.equal(budget.tryTake(25_000), false)
    assert.equal(budget.waitMs(), 1)
    clock.advance(1)
    assert.ok(budget.tryTake(25_000), 'any credit lets one send through, as a debt')
    assert.equal(budget.tryTake(25_000), false)
    assert.equal(budget.waitMs(), 25, 'the 24 kB of debt take 24 ms at 1 MB/s, plus one')
    clock.advance(24)
    assert.equal(budget.tryTake(25_000), false, 'debt repaid to the byte is not yet credit')
    clock.advance(1)
    assert.ok(budget.tryTake(25_000))
    // 500 kB after the burst take 0.5 s of the clock
    let sent = 0
    const start = clock.now()
    while (sent < 500_000) {
      if (budget.tryTake(25_000)) sent += 25_000
      else clock.advance(budget.waitMs())
    }
    const seconds = (clock.now() - start) / 1000
    assert.ok(seconds > 0.45 && seconds < 0.55, `took ${seconds} s of the clock`)
    const office = new RateBudget({ maxRate: '100mbit', schedule: [{ from: 8, to: 18, maxRate: '2mbit' }] }, () => new Date(2026, 0, 1, 10))
    assert.equal(office.rate, 250_000)
    const night = new RateBudget({ maxRate: '100mbit', schedule: [{ from: 8, to: 18, maxRate: '2mbit' }] }, () => new Date(2026, 0, 1, 22))
    assert.equal(night.rate, 12_500_000)
  })
})
