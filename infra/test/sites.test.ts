import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'

import { canMakeNamespaces, destroyTopology } from '../src/netns.js'
import { formatReport, runScenario } from '../src/scenario.js'

const check = await canMakeNamespaces()

const prefix = `cct${process.pid % 10000}`
/** Block bytes entering a branch over the WAN, at most this many times the version's delta (N nodes pulling alone: N x). */
const WAN_BOUND = 1.35

describe('multi-site network in namespaces', () => {
  // a test timeout ends the process before the scenario's own teardown runs
  after(async () => { if (check.ok) await destroyTopology(prefix) })

  it('data center publishes v1 then v2; two branches of three and a laptop get both on their own, each block crossing a branch WAN about once; a killed node and a cut laptop finish', { skip: check.ok ? false : check.why, timeout: 240_000 }, async (t) => {
    const report = await runScenario({ sizeMiB: 48, wanRate: '40mbit', laptopCutMs: 2500, killAfterMs: 1500, prefix, pullTimeoutMs: 90_000, log: line => { t.diagnostic(line) } })
    for (const line of formatReport(report).split('\n')) t.diagnostic(line)
    assert.equal(report.nodes.length, 2 * 8, 'eight subscribers, two versions')
    for (const n of report.nodes) assert.ok(n.sha256Ok, `${n.node} ${n.version}: export differs from the original`)
    for (const s of report.sites.filter(s => s.site !== 'dc')) {
      // the goal is 1.1x; measured here 1.03-1.06x for the three-node branch (with a node killed mid-pull)
      // and 1.14-1.31x for the four-node branch with the laptop (requests racing while a member joins or returns)
      assert.ok(s.swarmWanBytes <= WAN_BOUND * s.deltaBytes, `${s.site} ${s.version}: ${s.swarmWanBytes} block bytes over the WAN for a delta of ${s.deltaBytes}`)
      // the link also carries TCP/IP, Noise, yamux and have/pubsub traffic
      assert.ok(s.wanRxBytes <= (WAN_BOUND + 0.1) * s.deltaBytes, `${s.site} ${s.version}: ${s.wanRxBytes} bytes entered over the link for a delta of ${s.deltaBytes}`)
    }
    const v2 = report.versions.find(v => v.version === 'v2')
    assert.ok(v2 !== undefined && v2.deltaBytes < 0.3 * report.versions[0].deltaBytes, 'v2 is a delta')
  })
})
