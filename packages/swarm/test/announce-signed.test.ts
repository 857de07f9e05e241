import './helpers.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { pino } from 'pino'
import { formatPublicKey, generatePublisherKey } from '@cachecloud/manifest'
import { announceTopic, encodeSignedAnnouncement, verifyAnnouncement } from '../src/index.js'
import { createTrustStore } from '@cachecloud/manifest'
import { addVersion, connectAll, makeManifest, publisher, randomImage, startSwarmNode, waitFor, type SwarmNode } from './helpers.js'
import { cidOf } from '@cachecloud/core'

// Issue 12, announcements: only an announcement signed by a trusted publisher starts a pull.
// Real libp2p nodes on 127.0.0.1 and real gossipsub. The sender (`rogue`) holds versions whose
// manifests ARE signed by the trusted publisher, so that a pull, once started, would succeed:
// what stops it must be the check of the announcement itself. Catch-up is off in the
// subscriber (it would find the versions by asking catalogs, which is its own, verified, path).

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }
const text = (json: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(json))

describe('signed announcements between real libp2p nodes', () => {
  const untrusted = generatePublisherKey()
  let rogue: SwarmNode
  let sub: SwarmNode
  let pub: SwarmNode
  const lines: string[] = []
  const cids = new Map<string, Awaited<ReturnType<typeof addVersion>>>()

  before(async () => {
    const logger = pino({ level: 'debug' }, { write: (line: string) => { lines.push(line) } })
    rogue = await startSwarmNode({ site: 'x' })
    pub = await startSwarmNode({ site: 'dc' })
    sub = await startSwarmNode({ site: 'b', subscriptions: [{ name: 'win11' }], logger, catchUpIntervalMs: 3_600_000 })
    await connectAll([rogue, pub, sub])
    await sleep(800) // subscriptions propagate; the catch-up on connect has run and found nothing
    for (const version of ['forged', 'tampered', 'legacy', 'replayed', 'genuine']) {
      const blocks = randomImage(3)
      cids.set(version, await addVersion(version === 'genuine' ? pub : rogue, makeManifest(version, blocks, 'win11'), blocks))
    }
  })
  after(async () => { await Promise.all([rogue, sub, pub].map(async n => { await n?.stop() })) })

  const send = async (bytes: Uint8Array): Promise<void> => {
    const { recipients } = await rogue.libp2p.services.pubsub.publish(announceTopic('win11'), bytes)
    assert.ok(recipients.length > 0, 'the subscriber got it')
  }
  /** Nothing started for `version`: no swarm pull, nothing in the catalog. */
  const nothingStarted = async (version: string): Promise<void> => {
    await sleep(1500)
    assert.equal(sub.swarm.status().find(p => p.ref === `win11@${version}`), undefined, `no pull of win11@${version}`)
    assert.equal(await sub.catalog.find({ name: 'win11', version }), undefined, 'nothing in the catalog')
  }
  const logged = (pattern: RegExp): boolean => lines.some(l => pattern.test(l))

  it('an announcement signed by a key that is not trusted starts nothing, with a warning', async () => {
    await send(encodeSignedAnnouncement({ ref: { name: 'win11', version: 'forged' }, cid: cids.get('forged')! }, untrusted))
    await nothingStarted('forged')
    assert.ok(logged(/"level":40.*ignored announcement from .*win11@forged is signed by ed25519:\w+, which is not a trusted publisher/), lines.join('\n'))
  })

  it('a trusted publisher\'s announcement altered on the way (another version) starts nothing', async () => {
    const signed = JSON.parse(new TextDecoder().decode(encodeSignedAnnouncement({ ref: { name: 'win11', version: 'genuine' }, cid: cids.get('genuine')! }, publisher))) as Record<string, unknown>
    await send(text({ ...signed, ref: 'win11@tampered', cid: cids.get('tampered')!.toString() }))
    await nothingStarted('tampered')
    assert.ok(logged(/win11@tampered has an invalid signature/), 'said why')
    assert.equal(sub.swarm.status().find(p => p.ref === 'win11@genuine'), undefined, 'nor the version it was signed for')
  })

  it('an unsigned announcement (message version 1, older nodes) is ignored', async () => {
    await send(text({ ref: 'win11@legacy', cid: cids.get('legacy')!.toString() }))
    await nothingStarted('legacy')
    assert.ok(logged(/"level":20.*unsigned announcement of win11@legacy \(message version 1\) ignored/), 'logged at debug')
  })

  it('a genuine announcement replayed two days later starts nothing', async () => {
    await send(encodeSignedAnnouncement({ ref: { name: 'win11', version: 'replayed' }, cid: cids.get('replayed')! }, publisher, new Date(Date.now() - 2 * 86_400_000)))
    await nothingStarted('replayed')
    assert.ok(logged(/win11@replayed was signed at .* ago \(a replay\?\)/))
  })

  it('a genuine announcement from the trusted publisher starts the pull, which completes', async () => {
    const { recipients } = await pub.swarm.publish({ name: 'win11', version: 'genuine' })
    assert.ok(recipients >= 1)
    await waitFor(async () => (await sub.catalog.find({ name: 'win11', version: 'genuine' }))?.state === 'complete')
    assert.equal(sub.swarm.status().find(p => p.ref === 'win11@genuine')?.state, 'complete')
  })

  it('the same announcement sent again and again runs one pull with its bounded retries, not one per message', async () => {
    // nobody holds this version: each attempt fails; each copy of the message used to start its own retry chain
    const ghost = cidOf(new TextEncoder().encode('a manifest nobody holds'))
    const bytes = encodeSignedAnnouncement({ ref: { name: 'win11', version: 'ghost' }, cid: ghost }, publisher)
    for (let i = 0; i < 5; i++) { await send(bytes); await sleep(30) }
    await sleep(2500) // attempts 1 and 2 have failed (retries after 1 s, then 2 s)
    const retries = lines.filter(l => /pull of win11@ghost failed, retrying in 1000 ms/.test(l)).length
    assert.equal(retries, 1, `one retry chain (saw ${retries} first retries)`)
  })

  it('a relay passes on a genuine announcement but not a forged one (gossipsub validation)', async () => {
    // rogue -- relay -- far: far hears rogue only through relay, which checks before it forwards
    const relay = await startSwarmNode({ site: 'r', subscriptions: [{ name: 'win11', policy: 'manual' }], catchUpIntervalMs: 3_600_000 })
    const far = await startSwarmNode({ site: 'f', subscriptions: [{ name: 'win11', policy: 'manual' }], catchUpIntervalMs: 3_600_000 })
    try {
      await rogue.libp2p.dial(relay.libp2p.getMultiaddrs()[0])
      await relay.libp2p.dial(far.libp2p.getMultiaddrs()[0])
      const heard: string[] = []
      far.libp2p.services.pubsub.addEventListener('message', (evt) => { if (evt.detail.topic === announceTopic('win11')) heard.push(JSON.parse(new TextDecoder().decode(evt.detail.data)).ref as string) })
      await sleep(2500) // the relay's mesh forms (gossipsub heartbeat: 1 s)
      const signed = JSON.parse(new TextDecoder().decode(encodeSignedAnnouncement({ ref: { name: 'win11', version: 'genuine' }, cid: cids.get('genuine')! }, publisher))) as Record<string, unknown>
      await send(text({ ...signed, ref: 'win11@tampered' }))
      await send(encodeSignedAnnouncement({ ref: { name: 'win11', version: 'relayed' }, cid: cids.get('genuine')! }, publisher))
      await waitFor(() => heard.includes('win11@relayed'), { timeoutMs: 10_000 })
      await sleep(300)
      assert.deepEqual(heard, ['win11@relayed'], 'the forged one stopped at the relay')
    } finally {
      await Promise.all([relay.stop(), far.stop()])
    }
  })

  it('checks cheapest first and names what is wrong (unit)', () => {
    const trust = createTrustStore([formatPublicKey(publisher.publicKey)])
    const cid = cids.get('genuine')!
    const ok = verifyAnnouncement(encodeSignedAnnouncement({ ref: { name: 'win11', version: 'genuine' }, cid }, publisher), { topicImage: 'win11', trust })
    assert.equal(ok.publisher, formatPublicKey(publisher.publicKey))
    const onOtherTopic = encodeSignedAnnouncement({ ref: { name: 'win11', version: 'genuine' }, cid }, publisher)
    assert.throws(() => verifyAnnouncement(onOtherTopic, { topicImage: 'ubuntu', trust }), { code: 'ERR_INVALID_SWARM_MESSAGE' })
    assert.throws(() => verifyAnnouncement(new Uint8Array(2048), { topicImage: 'win11', trust }), { code: 'ERR_INVALID_SWARM_MESSAGE' })
    assert.throws(() => verifyAnnouncement(text({ v: 2, ref: 'win11@x', cid: cid.toString(), publisher: formatPublicKey(publisher.publicKey), at: new Date().toISOString(), sig: 'AAAA' }), { topicImage: 'win11', trust }), { code: 'ERR_INVALID_SIGNATURE' })
    assert.throws(() => verifyAnnouncement(text({ v: 3, ref: 'win11@x', cid: cid.toString() }), { topicImage: 'win11', trust }), { code: 'ERR_INVALID_SWARM_MESSAGE' })
    const future = encodeSignedAnnouncement({ ref: { name: 'win11', version: 'genuine' }, cid }, publisher, new Date(Date.now() + 3_600_000))
    assert.throws(() => verifyAnnouncement(future, { topicImage: 'win11', trust }), { code: 'ERR_ANNOUNCEMENT_STALE' })
    assert.throws(() => verifyAnnouncement(text({ ref: 'win11@x', cid: cid.toString() }), { topicImage: 'win11', trust }), { code: 'ERR_ANNOUNCEMENT_UNSIGNED' })
  })
})

describe('an announcement reaches many subscribers behind one address', () => {
  const nodes: SwarmNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop().catch(() => {}) })) })

  // 16 subscribers on 127.0.0.1, as a branch behind NAT looks to the data center: gossipsub's default
  // IP-colocation penalty put more than 13 of them below its publish threshold, and the publisher sent them nothing
  it('every one of 16 subscribers hears the publisher', async () => {
    const pub = await startSwarmNode({ site: 'dc' })
    nodes.push(pub)
    const heard = new Set<string>()
    for (let i = 0; i < 16; i++) {
      const n = await startSwarmNode({ site: 'branch', subscriptions: [{ name: 'win11', policy: 'manual' }], catchUpIntervalMs: 3_600_000, onEvent: (e) => { if (e.ref === 'win11@wide') heard.add(String(i)) } })
      nodes.push(n)
      await sleep(250) // libp2p refuses more than 5 inbound connections a second from one IP
      await n.libp2p.dial(pub.libp2p.getMultiaddrs()[0])
    }
    await sleep(1500) // subscriptions propagate, scores settle (decay interval: 1 s)
    const blocks = randomImage(1)
    await addVersion(pub, makeManifest('wide', blocks, 'win11'), blocks)
    const { recipients } = await pub.swarm.publish({ name: 'win11', version: 'wide' })
    await waitFor(() => heard.size === 16, { timeoutMs: 5_000 }).catch(() => {})
    assert.equal(heard.size, 16, `${heard.size} of 16 subscribers heard it (${recipients} reached directly)`)
  })
})
