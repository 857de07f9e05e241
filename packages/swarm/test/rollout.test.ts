import './helpers.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { generatePublisherKey } from '@cachecloud/manifest'
import { decodeRolloutReport, rolloutTopic, type RolloutView } from '../src/index.js'
import { addVersion, makeManifest, randomImage, startSwarmNode, waitFor, type SwarmNode } from './helpers.js'

// Issue 14, rollout view: the publisher sees, per site, which nodes hold a version complete,
// are pulling it (percent), have not started, or went offline (last seen), from the small
// reports each node sends once per interval. Real libp2p nodes and gossipsub on 127.0.0.1.

const INTERVAL = 400
const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('rollout reports between real libp2p nodes', () => {
  const nodes: SwarmNode[] = []
  let pub: SwarmNode
  let paris: SwarmNode
  let rome: SwarmNode
  let lyonIdle: SwarmNode
  let lyonGone: SwarmNode
  const ref = { name: 'win11', version: 'v1' }
  const other = generatePublisherKey() // the branch nodes are no publishers of win11: they only report

  before(async () => {
    pub = await startSwarmNode({ site: 'dc', rolloutIntervalMs: INTERVAL })
    paris = await startSwarmNode({ site: 'paris', publisherKey: other, rolloutIntervalMs: INTERVAL })
    // 2 Mbit/s over the WAN: 2 MiB take about 8 s, so the pull is seen half-way
    rome = await startSwarmNode({ site: 'rome', publisherKey: other, rolloutIntervalMs: INTERVAL, wan: { maxRate: '2mbit' } })
    lyonIdle = await startSwarmNode({ site: 'lyon', publisherKey: other, rolloutIntervalMs: INTERVAL, subscriptions: [{ name: 'win11', policy: 'manual' }] })
    lyonGone = await startSwarmNode({ site: 'lyon', publisherKey: other, rolloutIntervalMs: INTERVAL })
    nodes.push(pub, paris, rome, lyonIdle, lyonGone)
    const blocks = randomImage(32)
    const manifest = makeManifest('v1', blocks, 'win11')
    await addVersion(pub, manifest, blocks)
    await addVersion(paris, manifest, blocks)
    await addVersion(lyonGone, manifest, blocks)
    for (const n of nodes.slice(1)) await n.libp2p.dial(pub.libp2p.getMultiaddrs()[0]) // branches reach the data center
    await pub.swarm.publish(ref) // the publisher collects its image's reports from now on
  })
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop().catch(() => {}) })) })

  const site = (view: RolloutView, name: string): RolloutView['sites'][number] | undefined => view.sites.find(s => s.site === name)

  it('counts each site\'s nodes: complete, pulling with percent, not started', async () => {
    void rome.swarm.pull(ref).catch(() => {})
    await waitFor(async () => {
      const v = await pub.swarm.rollout(ref)
      return v.totals.complete === 3 && v.totals.pulling === 1 && v.totals.notStarted === 1
    }, { timeoutMs: 10_000 })
    const view = await pub.swarm.rollout(ref)
    assert.deepEqual(view.totals, { complete: 3, pulling: 1, notStarted: 1, offline: 0 })
    assert.equal(site(view, 'dc')?.complete, 1)
    assert.equal(site(view, 'paris')?.complete, 1)
    assert.equal(site(view, 'lyon')?.complete, 1)
    assert.equal(site(view, 'lyon')?.notStarted, 1)
    const pulling = site(view, 'rome')?.nodes[0]
    assert.equal(pulling?.peer, rome.libp2p.peerId.toString())
    assert.equal(pulling?.state, 'pulling')
    assert.ok(pulling.percent !== null && pulling.percent < 100, `pulling at ${String(pulling.percent)}%`)
    assert.equal(view.reportIntervalSeconds, INTERVAL / 1000)
  })

  it('a node that completes is counted complete within an interval or two', async () => {
    await waitFor(async () => (await rome.catalog.find(ref))?.state === 'complete', { timeoutMs: 30_000 })
    await sleep(2 * INTERVAL + 200)
    assert.equal(site(await pub.swarm.rollout(ref), 'rome')?.complete, 1)
  })

  it('a node that stops reporting is offline, with when it was last seen', async () => {
    const before = Date.now()
    await lyonGone.stop()
    await sleep(3 * INTERVAL + 2 * INTERVAL)
    const lyon = site(await pub.swarm.rollout(ref), 'lyon')
    assert.equal(lyon?.offline, 1)
    assert.equal(lyon?.complete, 0)
    const gone = lyon?.nodes.find(n => n.state === 'offline')
    assert.ok(gone !== undefined && Date.parse(gone.lastSeen) <= before + INTERVAL, `last seen ${String(gone?.lastSeen)}`)
  })

  it('costs each node one report per image per interval, however many peers', async () => {
    const sent = new Map<string, number>()
    const count = (evt: CustomEvent<{ topic: string, type: string, from?: { toString: () => string } }>): void => {
      if (evt.detail.topic === rolloutTopic('win11') && evt.detail.from !== undefined) sent.set(evt.detail.from.toString(), (sent.get(evt.detail.from.toString()) ?? 0) + 1)
    }
    pub.libp2p.services.pubsub.addEventListener('message', count as never)
    await sleep(10 * INTERVAL)
    pub.libp2p.services.pubsub.removeEventListener('message', count as never)
    for (const n of [paris, rome, lyonIdle]) {
      const reports = sent.get(n.libp2p.peerId.toString()) ?? 0
      assert.ok(reports >= 6 && reports <= 12, `${reports} reports in 10 intervals`)
    }
  })

  it('only collectors receive reports: a branch node is subscribed to no rollout topic', () => {
    assert.ok(pub.libp2p.services.pubsub.getTopics().includes(rolloutTopic('win11')))
    for (const n of [paris, rome, lyonIdle]) assert.deepEqual(n.libp2p.services.pubsub.getTopics().filter(t => t.startsWith('/cachecloud/rollout/')), [])
  })

  it('refuses malformed or oversized reports (unit)', () => {
    const bytes = (v: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(v))
    assert.throws(() => decodeRolloutReport(new Uint8Array(5000), 'win11'), { code: 'ERR_INVALID_SWARM_MESSAGE' })
    assert.throws(() => decodeRolloutReport(bytes({ v: 1, image: 'other', site: '', versions: [] }), 'win11'), { code: 'ERR_INVALID_SWARM_MESSAGE' })
    assert.throws(() => decodeRolloutReport(bytes({ v: 1, image: 'win11', site: '', versions: [{ version: 'v1', cid: 'x', state: 'complete', done: -1, total: 5 }] }), 'win11'), { code: 'ERR_INVALID_SWARM_MESSAGE' })
    assert.throws(() => decodeRolloutReport(bytes({ v: 1, image: 'win11', site: '', versions: Array(9).fill({ version: 'v1', cid: 'x', state: 'complete', done: 1, total: 1 }) }), 'win11'), { code: 'ERR_INVALID_SWARM_MESSAGE' })
    const ok = decodeRolloutReport(bytes({ v: 1, image: 'win11', site: 'paris', versions: [{ version: 'v1', cid: 'x', state: 'pulling', done: 9, total: 5 }] }), 'win11')
    assert.equal(ok.versions[0].done, 5, 'done is capped at total')
  })
})

describe('rollout of one version across 16 nodes in 4 sites', () => {
  const nodes: SwarmNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop().catch(() => {}) })) })

  // 17 peers on 127.0.0.1: before gossipsub's IP-colocation penalty was turned off (network/host.ts), more
  // than 13 peers behind one address were graylisted and their reports ignored (as a branch behind NAT would be)
  it('the publisher\'s counts match what each node holds, within one interval', async () => {
    const pub = await startSwarmNode({ site: 'dc', rolloutIntervalMs: INTERVAL })
    nodes.push(pub)
    const blocks = randomImage(2)
    const manifest = makeManifest('v1', blocks, 'win11')
    await addVersion(pub, manifest, blocks)
    const other = generatePublisherKey()
    const expected = new Map<string, { complete: number, notStarted: number }>()
    for (let i = 0; i < 16; i++) {
      const site = `site-${i % 4}`
      const n = await startSwarmNode({ site, publisherKey: other, rolloutIntervalMs: INTERVAL, subscriptions: [{ name: 'win11', policy: 'manual' }] })
      nodes.push(n)
      // in site k, the first k+1 of its 4 nodes hold the version: 1, 2, 3 and 4 per site
      const holds = Math.floor(i / 4) <= i % 4
      if (holds) await addVersion(n, manifest, blocks)
      const e = expected.get(site) ?? { complete: 0, notStarted: 0 }
      if (holds) e.complete++
      else e.notStarted++
      expected.set(site, e)
      // libp2p refuses more than 5 inbound connections a second from one IP: stay under it
      await sleep(250)
      await n.libp2p.dial(pub.libp2p.getMultiaddrs()[0])
    }
    await waitFor(() => nodes.slice(1).every(n => n.libp2p.getConnections(pub.libp2p.peerId).length > 0), { timeoutMs: 5_000 })
    await pub.swarm.publish({ name: 'win11', version: 'v1' })
    const want = (view: RolloutView): boolean => [...expected].every(([
      site,
      e
    ]) => view.sites.some(s => s.site === site && s.complete === e.complete && s.notStarted === e.notStarted))
    const started = Date.now()
    await waitFor(async () => want(await pub.swarm.rollout({ name: 'win11', version: 'v1' })), { timeoutMs: 10 * INTERVAL })
    const view = await pub.swarm.rollout({ name: 'win11', version: 'v1' })
    assert.deepEqual(view.totals, { complete: 1 + 10, pulling: 0, notStarted: 6, offline: 0 })
    assert.ok(Date.now() - started <= 2 * INTERVAL + 1000, `counts right after ${Date.now() - started} ms`)
  })
})
