import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { TypedEventEmitter, type PeerDiscoveryEvents, type PeerInfo } from '@libp2p/interface'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import { DISCOVERED_DIAL_TIEBREAK_MS, DISCOVERED_REDIAL_MS, MDNS_REDISCOVER_MS } from '../src/constants.js'
import { ThrottledDiscovery } from '../src/discovery-throttle.js'
import { createNetwork, type CachePointLibp2p } from '../src/index.js'

/** Queries more often than the default, so that a few seconds hold several rounds of answers. */
const QUERY_INTERVAL_MS = 1000

async function mdnsHost (): Promise<CachePointLibp2p> {
  return await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], mdns: true, mdnsIntervalMs: QUERY_INTERVAL_MS })
}

describe('mDNS discovery throttle', () => {
  it('merges a peer that real mDNS keeps answering for into the peer store once, not once per answer', async () => {
    const [a, b] = await Promise.all([mdnsHost(), mdnsHost()])
    try {
      // discovery's merges carry addresses only; identify's and the streams' carry protocols or metadata
      let discoveryMerges = 0
      const merge = a.peerStore.merge.bind(a.peerStore)
      a.peerStore.merge = async (peer, data, options) => {
        if (peer.equals(b.peerId) && Object.keys(data).join() === 'multiaddrs') discoveryMerges++
        return await merge(peer, data, options)
      }
      // both nodes query every QUERY_INTERVAL_MS and every answer is multicast: a hears b's about twice per interval
      const deadline = Date.now() + 15_000
      while (a.getConnections(b.peerId).length === 0) {
        if (Date.now() > deadline) throw new Error('mDNS did not connect the two nodes')
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      await new Promise(resolve => setTimeout(resolve, 4 * QUERY_INTERVAL_MS + 500))
      assert.ok(discoveryMerges >= 1, 'b was discovered over mDNS')
      assert.ok(discoveryMerges <= 2, `${discoveryMerges} discovery merges of one peer in ${4 * QUERY_INTERVAL_MS} ms`)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('connects each pair of nodes that find each other over mDNS once, not from both sides', async () => {
    const hosts = await Promise.all([mdnsHost(), mdnsHost(), mdnsHost(), mdnsHost()])
    try {
      const deadline = Date.now() + 15_000
      while (hosts.some(h => h.getPeers().length < hosts.length - 1)) {
        if (Date.now() > deadline) throw new Error('mDNS did not connect the four nodes')
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      // past the tie-break and a redial round: a second connection would have been made by now
      await new Promise(resolve => setTimeout(resolve, DISCOVERED_DIAL_TIEBREAK_MS + DISCOVERED_REDIAL_MS))
      for (const h of hosts) assert.deepEqual(hosts.filter(o => o !== h).map(o => h.getConnections(o.peerId).length), [1, 1, 1])
    } finally {
      await Promise.all(hosts.map(async h => { await h.stop() }))
    }
  })

  it('passes a peer on when new, when its addresses change and once the interval has passed', async () => {
    const inner = new TypedEventEmitter<PeerDiscoveryEvents>()
    let clock = 0
    const throttle = new ThrottledDiscovery(inner, MDNS_REDISCOVER_MS, () => clock)
    const seen: string[] = []
    throttle.addEventListener('peer', evt => { seen.push(evt.detail.multiaddrs.map(String).join()) })
    await throttle.start()
    const id = peerIdFromPrivateKey(await generateKeyPair('Ed25519'))
    const announce = (addr: string): void => { inner.safeDispatchEvent<PeerInfo>('peer', { detail: { id, multiaddrs: [multiaddr(addr)] } }) }
    announce('/ip4/10.1.0.10/tcp/4001')
    clock += 1000
    announce('/ip4/10.1.0.10/tcp/4001')
    clock += 1000
    announce('/ip4/10.1.0.11/tcp/4001')
    clock += MDNS_REDISCOVER_MS - 1
    announce('/ip4/10.1.0.11/tcp/4001')
    clock += 1
    announce('/ip4/10.1.0.11/tcp/4001')
    assert.deepEqual(seen, ['/ip4/10.1.0.10/tcp/4001', '/ip4/10.1.0.11/tcp/4001', '/ip4/10.1.0.11/tcp/4001'])
    await throttle.stop()
    announce('/ip4/10.1.0.12/tcp/4001')
    assert.equal(seen.length, 3, 'nothing is passed on once stopped')
  })
})
