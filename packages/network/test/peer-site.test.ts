import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNetwork, peerSite, type CachePointLibp2p } from '../src/index.js'

async function host (site?: string): Promise<CachePointLibp2p> {
  return createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], site })
}

async function identified (node: CachePointLibp2p, peer: CachePointLibp2p): Promise<void> {
  const deadline = Date.now() + 10_000
  while ((await node.peerStore.get(peer.peerId).catch(() => undefined))?.metadata.get('AgentVersion') === undefined) {
    if (Date.now() > deadline) throw new Error('identify did not complete')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('peer site', () => {
  it('answers from identify without a peer-store read per call, for peers with and without a site label', async () => {
    const [dc, paris, unlabelled] = await Promise.all([host('dc'), host('branch-paris'), host()])
    try {
      await dc.dial(paris.getMultiaddrs()[0])
      await dc.dial(unlabelled.getMultiaddrs()[0])
      await Promise.all([identified(dc, paris), identified(dc, unlabelled)])
      // count the reads of the real peer store (a sender asks once per block it sends)
      let reads = 0
      const get = dc.peerStore.get.bind(dc.peerStore)
      dc.peerStore.get = async (...args) => { reads++; return await get(...args) }
      for (let i = 0; i < 1000; i++) {
        assert.equal(await peerSite(dc, paris.peerId), 'branch-paris')
        assert.equal(await peerSite(dc, unlabelled.peerId), undefined)
      }
      assert.equal(reads, 0)
    } finally {
      await Promise.all([dc.stop(), paris.stop(), unlabelled.stop()])
    }
  })

  it('forgets a peer that disconnected and reads its new label when it comes back', async () => {
    const a = await host('dc')
    const key = await generateKeyPair('Ed25519')
    let b = await createNetwork({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], site: 'branch-paris' })
    try {
      await a.dial(b.getMultiaddrs()[0])
      await identified(a, b)
      assert.equal(await peerSite(a, b.peerId), 'branch-paris')
      await b.stop()
      b = await createNetwork({ privateKey: key, listen: ['/ip4/127.0.0.1/tcp/0'], site: 'branch-lyon' })
      const deadline = Date.now() + 10_000
      while (a.getConnections(b.peerId).length > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 20))
      await a.dial(b.getMultiaddrs()[0])
      let site: string | undefined
      while (site !== 'branch-lyon' && Date.now() < deadline) {
        site = await peerSite(a, b.peerId)
        await new Promise(resolve => setTimeout(resolve, 20))
      }
      assert.equal(site, 'branch-lyon')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})
