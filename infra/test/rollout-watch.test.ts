import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { RolloutView } from '@cachecloud/swarm'
import { countBySite, lagProblems, ownState, viewCounts, type OwnSample } from '../src/rollout-watch.js'

const status = (versions: Array<{ version: string, state: 'complete' | 'pulling' }>, pulls: Array<{ ref: string, bytesDone: number, bytesTotal: number }> = []): Parameters<typeof ownState>[0] => ({
  versions: versions.map(v => ({ name: 'os', version: v.version, state: v.state, cid: 'x', size: 100, blockSize: 10, createdAt: '', parent: null, publisher: '' })),
  swarm: { pulls } as unknown as Parameters<typeof ownState>[0]['swarm']
})

describe('rollout-watch: what the 16-node test compares', () => {
  it('a node\'s own state of a version, in the rollout view\'s words', () => {
    assert.deepEqual(ownState(status([]), 'os@v1'), { state: 'not-started', percent: null })
    assert.deepEqual(ownState(status([{ version: 'v1', state: 'complete' }]), 'os@v1'), { state: 'complete', percent: null })
    assert.deepEqual(ownState(status([{ version: 'v1', state: 'pulling' }], [{ ref: 'os@v1', bytesDone: 37, bytesTotal: 200 }]), 'os@v1'), { state: 'pulling', percent: 18 })
    assert.deepEqual(ownState(status([{ version: 'v0', state: 'complete' }]), 'os@v1').state, 'not-started')
  })

  it('counts per site, every site present', () => {
    const counts = countBySite([{ site: 'a', state: 'complete' }, { site: 'a', state: 'offline' }, { site: 'b', state: 'not-started' }], ['a', 'b', 'c'])
    assert.deepEqual(counts.a, { complete: 1, pulling: 0, notStarted: 0, offline: 1 })
    assert.deepEqual(counts.c, { complete: 0, pulling: 0, notStarted: 0, offline: 0 })
    const view = { ref: 'os@v1', reportIntervalSeconds: 2, totals: counts.a, sites: [{ site: 'a', ...counts.a, nodes: [] }] } as RolloutView
    assert.deepEqual(viewCounts(view, ['a', 'b']), { a: counts.a, b: { complete: 0, pulling: 0, notStarted: 0, offline: 0 } })
  })

  it('a view may lag a node by the window, no more; offline is wrong only for a node that answered promptly', () => {
    // the node: not started until 1000, pulling until 5000, then complete; sampled every 500 ms, answering in 50 ms
    const own: OwnSample[] = []
    for (let t = 0; t <= 12_000; t += 500) own.push({ t0: t, t1: t + 50, state: t < 1000 ? 'not-started' : t < 5000 ? 'pulling' : 'complete', percent: null })
    const at = (t: number, state: Parameters<typeof lagProblems>[1][number]['state']): Parameters<typeof lagProblems>[1] => [{ t0: t, t1: t + 100, state }]
    assert.deepEqual(lagProblems(own, at(7000, 'pulling'), 3000, 6000, 2000).problems, [], 'two seconds behind: within the window')
    assert.equal(lagProblems(own, at(9000, 'pulling'), 3000, 6000, 2000).problems.length, 1, 'four seconds behind')
    assert.equal(lagProblems(own, at(3000, 'complete'), 3000, 6000, 2000).problems.length, 1, 'ahead of the node')
    assert.equal(lagProblems(own, at(9000, 'offline'), 3000, 6000, 2000).problems.length, 1, 'offline though it answered')
    const starved = own.map(s => s.t0 >= 4000 && s.t0 <= 8000 ? { ...s, t1: s.t0 + 2500 } : s)
    assert.deepEqual(lagProblems(starved, at(9000, 'offline'), 3000, 6000, 2000), { problems: [], excused: 1 }, 'offline while its own status took over an interval: excused')
  })
})
