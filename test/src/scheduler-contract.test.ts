import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { OnDemandScheduler } from '@cachecloud/ondemand'
import { RateBudget, SwarmScheduler, type SwarmWant } from '@cachecloud/swarm'
import { createWorkQueueScheduler, type BlockWant, type PullScheduler } from '@cachecloud/transfer'

const BLOCK = 1024
const PEERS = ['a', 'b', 'c']

/** The contract every PullScheduler keeps, whichever decides who fetches what: the direct pull's work queue, the swarm's rarest-first, the NBD on-demand fetch. */
interface SchedulerCase {
  name: string
  /** A scheduler over `wants`, every peer of PEERS holding every block. */
  make: (wants: SwarmWant[]) => PullScheduler
}

const CASES: SchedulerCase[] = [
  { name: 'work queue (direct pull)', make: wants => createWorkQueueScheduler(wants) },
  {
    name: 'swarm (rarest first)',
    make: wants => {
      const s = new SwarmScheduler({ self: 'me', wants, wan: new RateBudget(), wanStartDelayMs: 0, initialWindowBytes: 1 << 30, endgameAfterMs: 3_600_000 })
      for (const peer of PEERS) s.updatePeer(peer, true, { state: 'complete', site: 'here' })
      return s
    }
  },
  { name: 'on demand (NBD reads)', make: wants => new OnDemandScheduler(wants, () => true) }
]

const wantsOf = (n: number): SwarmWant[] => Array.from({ length: n }, (_, index) => ({ cid: cidOf(randomBytes(16)), length: BLOCK, index }))

/** Resolves true when `changed()` settles within a turn of the event loop after `act`. */
async function wakes (s: PullScheduler, act: () => void): Promise<boolean> {
  let woke = false
  const changed = s.changed().then(() => { woke = true })
  act()
  await Promise.race([changed, new Promise(resolve => setImmediate(resolve))])
  return woke
}

for (const c of CASES) {
  describe(`PullScheduler contract: ${c.name}`, () => {
    it('take gives at most maxCount blocks and at most maxBytes, but at least one block', () => {
      const s = c.make(wantsOf(32))
      assert.equal(s.take('a', 10 * BLOCK, 4).length, 4)
      assert.equal(s.take('a', 3 * BLOCK + 1, 100).length, 3, 'never more bytes than asked')
      assert.equal(s.take('a', 1, 100).length, 1, 'one block even when it is larger than maxBytes')
    })

    it('hands every block out once while in flight, and counts down to nothing left', () => {
      const wants = wantsOf(40)
      const s = c.make(wants)
      const seen = new Set<BlockWant>()
      for (let round = 0; seen.size < wants.length && round < 100; round++) {
        for (const peer of PEERS) {
          for (const w of s.take(peer, 4 * BLOCK, 4)) {
            assert.ok(!seen.has(w), 'a block in flight is not handed out again')
            seen.add(w)
            s.received(peer, w)
          }
        }
      }
      assert.equal(seen.size, wants.length)
      assert.equal(s.remaining, 0)
      for (const peer of PEERS) {
        assert.equal(s.mayHaveWorkFor(peer), false)
        assert.deepEqual(s.take(peer, 1 << 20, 100), [])
      }
    })

    it('released blocks go back and are fetched again, none lost, none twice', () => {
      const wants = wantsOf(12)
      const s = c.make(wants)
      const taken = s.take('a', 1 << 20, 6)
      assert.equal(taken.length, 6)
      s.release('a', taken)
      assert.equal(s.remaining, 12, 'released is not received')
      const got = new Set<BlockWant>()
      for (let round = 0; got.size < 12 && round < 50; round++) {
        for (const w of s.take('b', 1 << 20, 100)) { assert.ok(!got.has(w)); got.add(w); s.received('b', w) }
      }
      assert.deepEqual(new Set(wants), got)
      assert.equal(s.remaining, 0)
    })

    it('a block a peer does not hold is never asked of it again, and goes to another peer', () => {
      const wants = wantsOf(4)
      const s = c.make(wants)
      const [refused] = s.take('a', BLOCK, 1)
      s.notFound('a', refused)
      const toA = new Set<BlockWant>()
      for (let i = 0; i < 10; i++) for (const w of s.take('a', 1 << 20, 100)) { toA.add(w); s.received('a', w) }
      assert.ok(!toA.has(refused), 'not asked of the peer that refused it')
      assert.equal(s.remaining, 1)
      assert.equal(s.mayHaveWorkFor('a'), false, 'a peer that refused every block left, with nothing in flight, has no work')
      assert.equal(s.mayHaveWorkFor('b'), true)
      assert.deepEqual(s.take('b', 1 << 20, 100), [refused])
      s.received('b', refused)
      assert.equal(s.remaining, 0)
    })

    it('changed() settles on every state change: received, released, refused', async () => {
      const s = c.make(wantsOf(8))
      const [x, y, z] = s.take('a', 1 << 20, 3)
      assert.ok(await wakes(s, () => { s.received('a', x) }), 'received')
      assert.ok(await wakes(s, () => { s.release('a', [y]) }), 'released')
      assert.ok(await wakes(s, () => { s.notFound('a', z) }), 'refused')
      assert.equal(await wakes(s, () => {}), false, 'and not without one')
    })
  })
}
