import './helpers.js'
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generateNetworkKey } from '@cachecloud/network'
import { CATALOG_PROTOCOL } from '@cachecloud/transfer'
import { addVersion, BLOCK, connectAll, holdsAll, makeManifest, randomImage, startSwarmNode, waitFor, type SwarmNode } from './helpers.js'

describe('swarm', () => {
  const nodes: SwarmNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  it('three branch nodes pulling at once fetch each block over the WAN about once, the rest from each other', async (t) => {
    const blocks = randomImage(96) // 6 MiB
    const manifest = makeManifest('v1', blocks)
    // a private network: every byte below also goes through the network key's cipher
    const networkKey = new TextEncoder().encode(generateNetworkKey())
    const dc = await startSwarmNode({ site: 'dc', networkKey })
    const branch = await Promise.all([0, 1, 2].map(async () => await startSwarmNode({ site: 'branch', networkKey, wan: { maxRate: 3 * 1024 * 1024 } })))
    nodes.push(dc, ...branch)
    await addVersion(dc, manifest, blocks)
    await connectAll([dc, ...branch])
    const results = await Promise.all(branch.map(async n => await n.swarm.pull({ name: 'disk', version: 'v1' }, { idleTimeoutMs: 20_000 })))
    for (const n of branch) assert.ok(await holdsAll(n, blocks))
    const delta = blocks.length * BLOCK
    const wan = results.reduce((s, r) => s + r.wanBytes, 0)
    const lan = results.reduce((s, r) => s + r.lanBytes, 0)
    t.diagnostic(`delta ${delta} B, branch WAN ${wan} B (${(wan / delta).toFixed(2)}x), LAN ${lan} B`)
    assert.equal(wan + lan, 3 * delta)
    assert.ok(wan <= 1.1 * delta, `WAN bytes ${wan} > 1.1 x delta ${delta}`)
    for (const r of results) {
      assert.equal(r.blocksDone, blocks.length)
      assert.ok(r.lanBytes > 0, 'every branch node got blocks from its site')
    }
  })

  // a member's fence (it must answer a have request sent after it first asked this node's holdings) waited for
  // the next polling round: one to two rounds with the branch's WAN link idle at the start of every version
  it('two branch nodes starting a pull together fence each other within a fraction of a polling round, and take their shares over the WAN', async (t) => {
    const blocks = randomImage(48)
    const manifest = makeManifest('f1', blocks)
    const dc = await startSwarmNode({ site: 'dc' })
    const branch = await Promise.all([0, 1].map(async () => await startSwarmNode({ site: 'branch', haveIntervalMs: 10_000, wan: { maxRate: 1024 * 1024 } })))
    nodes.push(dc, ...branch)
    await addVersion(dc, manifest, blocks)
    await connectAll([dc, ...branch])
    const started = Date.now()
    const pulls = branch.map(async n => await n.swarm.pull({ name: 'disk', version: 'f1' }, { idleTimeoutMs: 60_000 }))
    const wanBytes = (n: SwarmNode): number => n.swarm.status().find(p => p.ref === 'disk@f1')?.wanBytes ?? 0
    await waitFor(() => branch.every(n => wanBytes(n) > 0), { timeoutMs: 60_000, intervalMs: 20, what: 'both nodes fetching over the WAN' })
    const firstWan = Date.now() - started
    t.diagnostic(`both fetching over the WAN ${firstWan} ms after the start`)
    const results = await Promise.all(pulls)
    for (const n of branch) assert.ok(await holdsAll(n, blocks))
    // fenced after the start delay (1.5 s) and about FENCE_MARGIN_MS, not after a 10 s round: once FENCE_WAIT_MS (3 s)
    // had passed without it, each took the other for a node that was not pulling and fetched every block itself
    const wan = results.reduce((sum, r) => sum + r.wanBytes, 0)
    assert.ok(wan <= 1.05 * blocks.length * BLOCK, `WAN bytes ${wan} for ${blocks.length * BLOCK} of blocks`)
    assert.ok(results.every(r => r.lanBytes > 0), 'each got the other\'s share over the LAN')
  })

  it('plan counts what the site holds (LAN) vs what must cross the WAN, before anything moves', async () => {
    const v1 = randomImage(32)
    const v2 = [...v1.slice(0, 24), ...randomImage(8)]
    const m1 = makeManifest('p1', v1)
    const m2 = makeManifest('p2', v2)
    const dc = await startSwarmNode({ site: 'dc' })
    const here = await startSwarmNode({ site: 'paris' })
    const neighbour = await startSwarmNode({ site: 'paris' })
    nodes.push(dc, here, neighbour)
    await addVersion(dc, m1, v1)
    await addVersion(dc, m2, v2)
    await addVersion(here, m1, v1)
    // the neighbour holds 3 of the 8 new blocks
    await addVersion(neighbour, m1, v1)
    await neighbour.catalog.add(m2, 'pulling')
    await addVersion(neighbour, makeManifest('part', v2.slice(24, 27)), v2.slice(24, 27))
    await connectAll([dc, here, neighbour])
    const plan = await here.swarm.plan({ name: 'disk', version: 'p2' })
    assert.equal(plan.missingBlocks, 8)
    assert.equal(plan.missingBytes, 8 * BLOCK)
    assert.equal(plan.lanBlocks, 3)
    assert.equal(plan.wanBlocks, 5)
    assert.equal(plan.unavailableBlocks, 0)
    assert.equal(await here.catalog.find({ name: 'disk', version: 'p2' }), undefined, 'plan stores nothing')
  })

  it('publish reaches subscribers, which verify and pull; a node connecting later catches up', async () => {
    const blocks = randomImage(16)
    const manifest = makeManifest('s1', blocks, 'win11')
    const pub = await startSwarmNode({ site: 'dc' })
    const sub = await startSwarmNode({ site: 'b', subscriptions: [{ name: 'win11' }] })
    const manual = await startSwarmNode({ site: 'b', subscriptions: [{ name: 'win11', policy: 'manual' }] })
    nodes.push(pub, sub, manual)
    await connectAll([pub, sub, manual])
    await new Promise(resolve => setTimeout(resolve, 500)) // subscriptions propagate
    await addVersion(pub, manifest, blocks)
    const { recipients } = await pub.swarm.publish({ name: 'win11', version: 's1' })
    assert.ok(recipients >= 1)
    await waitFor(async () => (await sub.catalog.find({ name: 'win11', version: 's1' }))?.state === 'complete')
    assert.ok(await holdsAll(sub, blocks))
    assert.equal(await manual.catalog.find({ name: 'win11', version: 's1' }), undefined, 'manual policy does not pull')
    const late = await startSwarmNode({ site: 'b', subscriptions: [{ name: 'win11' }] })
    nodes.push(late)
    await late.libp2p.dial(sub.libp2p.getMultiaddrs()[0])
    await waitFor(async () => (await late.catalog.find({ name: 'win11', version: 's1' }))?.state === 'complete')
    assert.ok(await holdsAll(late, blocks))
  })

  // every announced pull asked each connected peer's catalog and waited for the slowest (the swarm's
  // timeout) before it fetched the manifest that the announcement had named, from the one node offering it
  it('an announced version\'s manifest comes from its announcer: a connected peer whose catalog never answers does not hold the pull up', async () => {
    const blocks = randomImage(8)
    const manifest = makeManifest('m1', blocks, 'kiosk')
    const pub = await startSwarmNode({ site: 'dc' })
    const sub = await startSwarmNode({ site: 'b', subscriptions: [{ name: 'kiosk' }], timeoutMs: 120_000 })
    const mute = await startSwarmNode({ site: 'b' })
    nodes.push(pub, sub, mute)
    const asked: string[] = []
    await mute.libp2p.unhandle(CATALOG_PROTOCOL)
    await mute.libp2p.handle(CATALOG_PROTOCOL, (_stream, connection) => { asked.push(connection.remotePeer.toString()) }) // reads nothing, answers never
    await connectAll([pub, sub, mute])
    // the catch-up on connecting asks the mute peer's catalog: a request that stays stuck from then on
    await waitFor(() => asked.includes(sub.libp2p.peerId.toString()), { what: 'the catch-up\'s catalog request to the mute peer' })
    await new Promise(resolve => setTimeout(resolve, 500)) // subscriptions propagate
    await addVersion(pub, manifest, blocks)
    const started = Date.now()
    await pub.swarm.publish({ name: 'kiosk', version: 'm1' })
    await waitFor(async () => (await sub.catalog.find({ name: 'kiosk', version: 'm1' }))?.state === 'complete', { timeoutMs: 30_000, what: 'the announced pull' })
    assert.ok(await holdsAll(sub, blocks))
    assert.ok(Date.now() - started < 30_000)
  })
})
