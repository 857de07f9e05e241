import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'

import { canMakeNamespaces, destroyTopology } from '../src/netns.js'
import { formatReport, runScenario } from '../src/scenario.js'

const check = await canMakeNamespaces()

const prefix = `cct${process.pid % 10000}`
/** The goal: block bytes entering a branch over the WAN, at most this many times the version's delta (N nodes pulling alone: N x). */
const WAN_BOUND = 1.1
/**
 * Blocks a site may store from the WAN twice when one of the fetchers is the cut laptop or the killed node: a block
 * the killed node stored and logged but had not synced is fetched again by its next run (never treated as present).
 * Every byte still counts against WAN_BOUND. The laptop's duplicates (CI on 2026-12-04: 1 of 93; here 1-2 in 6 of
 * 31 runs) came from stale views across its cut and are gone since (0 in 10 runs; packages/swarm site-group.ts).
 */
const DISRUPTED_DUPS = 2

describe('multi-site network in namespaces', () => {
  // a test timeout ends the process before the scenario's own teardown runs
  after(async () => { if (check.ok) await destroyTopology(prefix) })

  it('data center publishes v1 then v2; a branch of six and a laptop and a branch of three get both on their own, each block crossing a branch WAN once; a killed node and a cut laptop finish', { skip: check.ok ? false : check.why, timeout: 420_000 }, async (t) => {
    const report = await runScenario({
      sizeMiB: 48, wanRate: '40mbit', laptopCutMs: 2500, killAfterMs: 1500, prefix, pullTimeoutMs: 240_000, log: line => { t.diagnostic(line) },
      sites: [{ name: 'dc', hosts: 2 }, { name: 'b1', hosts: 6, laptops: 1, wanRate: '40mbit' }, { name: 'b2', hosts: 3, wanRate: '40mbit' }]
    })
    for (const line of formatReport(report).split('\n')) t.diagnostic(line)
    assert.equal(report.nodes.length, 2 * 11, 'eleven subscribers, two versions')
    for (const n of report.nodes) assert.ok(n.sha256Ok, `${n.node} ${n.version}: export differs from the original`)
    const disrupted = new Set(report.disrupted)
    assert.equal(disrupted.size, 2, 'the laptop was cut and a node killed')
    for (const s of report.sites.filter(s => s.site !== 'dc')) {
      // every block of the delta came over the WAN, and (per-block log of every node, both runs of the killed one)
      assert.equal(s.wanBlocks, report.sites.find(x => x.site === 'b2' && x.version === s.version)?.wanBlocks, `${s.site} ${s.version}: blocks over the WAN`)
      // none twice: the site-wide claims, the fence and the members' leases (docs/formats/protocols.md). What the design
      // leaves is a member cut off or killed whose requests in flight complete after the others took its share: at
      // most DISRUPTED_DUPS blocks fetched twice, each by the cut laptop or the killed node; never by two healthy members
      const dups = s.dupDetail ?? []
      for (const d of dups) t.diagnostic(`${s.site} ${s.version}: fetched twice: ${d.line}`)
      const unexplained = dups.filter(d => !d.nodes.some(n => disrupted.has(n)))
      assert.deepEqual(unexplained.map(d => d.line), [], `${s.site} ${s.version}: blocks stored from the WAN more than once in the site by members that were neither cut nor killed`)
      assert.ok(s.dupBlocks <= DISRUPTED_DUPS, `${s.site} ${s.version}: ${s.dupBlocks} blocks stored from the WAN more than once in the site (${s.dupFetches} extra fetches): ${dups.map(d => d.line).join('; ')}`)
      assert.ok(s.swarmWanBytes <= WAN_BOUND * s.deltaBytes, `${s.site} ${s.version}: ${s.swarmWanBytes} block bytes over the WAN for a delta of ${s.deltaBytes}`)
      // the link also carries TCP/IP, Noise, yamux and have/pubsub traffic, and blocks cut off mid-way by the kill
      assert.ok(s.wanRxBytes <= WAN_BOUND * s.deltaBytes, `${s.site} ${s.version}: ${s.wanRxBytes} bytes entered over the link for a delta of ${s.deltaBytes}`)
    }
    const v2 = report.versions.find(v => v.version === 'v2')
    assert.ok(v2 !== undefined && v2.deltaBytes < 0.3 * report.versions[0].deltaBytes, 'v2 is a delta')
  })
})
