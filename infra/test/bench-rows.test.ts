import assert from 'node:assert/strict'
import { describe, it } from 'node:test'

import { swarmRows } from '../src/bench-rows.js'
import type { ScenarioReport, SiteRow } from '../src/scenario.js'

const MB = 1e6
const site = (s: string, version: string, deltaBytes: number, wanRxBytes: number, dupBlocks = 0): SiteRow =>
  ({
    site: s,
    version,
    wanRxBytes,
    swarmWanBytes: deltaBytes,
    swarmWanWireBytes: wanRxBytes * 0.97,
    deltaBytes,
    wanBlocks: 100,
    dupBlocks,
    dupFetches: dupBlocks
  })

/** A report as runScenario returns it: 15 subscribers, v1 (220 MB raw) then v2 (174 MB raw), two branches. */
function report (): ScenarioReport {
  const nodes = ['v1', 'v2'].flatMap(version => Array.from({ length: 15 }, (_, i) =>
    ({ node: `n${i}`, site: i === 0 ? 'dc' : i <= 7 ? 'b1' : 'b2', version, seconds: 10, lanBytes: 0, wanBytes: 0, sha256Ok: true })))
  return {
    nodes,
    versions: [{ version: 'v1', deltaBytes: 220 * MB, seconds: 44 }, { version: 'v2', deltaBytes: 174 * MB, seconds: 30 }],
    sites: [
      site('dc', 'v1', 220 * MB, 0), site('b1', 'v1', 220 * MB, 95 * MB), site('b2', 'v1', 220 * MB, 100 * MB),
      site('dc', 'v2', 174 * MB, 0), site('b1', 'v2', 174 * MB, 60 * MB), site('b2', 'v2', 174 * MB, 90 * MB, 2)
    ]
  }
}

const base = { rateBytes: 2.5 * MB, lanBytesPerS: 400 * MB, branchHosts: 7, http: { seconds: 6000, measured: false, fileBytes: 2 ** 31 }, note: 'n' }

describe('swarm benchmark table', () => {
  it('per version: time / the ideal from the busiest branch link, WAN bytes per branch / raw delta and blocks twice+, each with its goal', () => {
    const rows = swarmRows({ ...base, report: report(), osContent: true })
    const row = (name: string): (typeof rows)[number] => {
      const found = rows.find(r => r.name === name)
      assert.ok(found !== undefined, `no row ${name} in ${rows.map(r => r.name).join('; ')}`)
      return found
    }
    const t1 = row('swarm v1: time until all 16 nodes hold it')
    // the busiest link (b2, 100 MB) at 2.5 MB/s, plus 220 MB at 400 MB/s
    assert.ok(Math.abs((t1.baseline ?? 0) - (40 + 0.55)) < 1e-9, `ideal ${t1.baseline}`)
    assert.equal(t1.goal, '<= 1.15')
    assert.equal(t1.met, true, '44 s / 40.55 s = 1.09')
    const t2 = row('swarm v2: time until all 16 nodes hold it')
    assert.ok(Math.abs((t2.baseline ?? 0) - (36 + 0.435)) < 1e-9, `ideal ${t2.baseline}`)

    const w = row('swarm v1: WAN bytes into b1 (link counters) / raw delta')
    assert.equal(w.value, 95)
    assert.equal(w.baseline, 220)
    assert.ok(Math.abs((w.ratio ?? 0) - 95 / 220) < 1e-9)
    assert.equal(w.goal, '<= 0.45 (OS content)')
    assert.equal(w.met, true)
    assert.equal(row('swarm v2: WAN bytes into b2 (link counters) / raw delta').met, false, '90 / 174 = 0.52 > 0.45')

    const d = row('swarm v2: blocks stored from the WAN twice+ in b2 (per-block log)')
    assert.deepEqual([d.value, d.baseline, d.goal, d.met], [2, 100, '0', false])
    assert.equal(row('swarm v1: blocks stored from the WAN twice+ in b1 (per-block log)').met, true)
    assert.equal(rows.filter(r => r.name.includes(' dc')).length, 0, 'the data center has no WAN link')

    const h = row('single HTTP server, lower bound (not measured): 7 whole files over each branch link')
    assert.equal(h.ratio, 6000 / 44)
    assert.equal(row('swarm: exports bit-identical (SHA-256)').value, 30)
    for (const r of rows.filter(r => r.name.startsWith('swarm v'))) assert.ok(r.goal !== undefined && r.met !== undefined, `${r.name}: no goal`)
  })

  it('random content: the WAN goal is each block once (1.1x), not compression', () => {
    const rows = swarmRows({ ...base, report: report(), osContent: false })
    const w = rows.find(r => r.name === 'swarm v2: WAN bytes into b2 (link counters) / raw delta')
    assert.equal(w?.goal, '<= 1.1 (random content: incompressible)')
    assert.equal(w?.met, true)
  })
})
