import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNetwork, generateNetworkKey, InvalidNetworkKeyError, parseNetworkKey, peerSite } from '../src/index.js'
import { host, LOCAL, memoryLogger } from './helpers.js'

/** True when `node` cannot run any protocol with `addr`: the dial fails, or the connection is closed before a stream opens. */
async function refused (node: Awaited<ReturnType<typeof createNetwork>>, addr: ReturnType<Awaited<ReturnType<typeof createNetwork>>['getMultiaddrs']>[number]): Promise<boolean> {
  try {
    const conn = await node.dial(addr, { signal: AbortSignal.timeout(5000) })
    await new Promise(resolve => setTimeout(resolve, 100))
    const stream = await conn.newStream('/ipfs/id/1.0.0', { signal: AbortSignal.timeout(2000) })
    // one chunk is enough to know the stream opened
    // eslint-disable-next-line no-unreachable-loop
    for await (const _ of stream) break
    return false
  } catch {
    return true
  }
}

describe('membership', () => {
  it('members with the network key connect; a node without it cannot', async () => {
    const key = new TextEncoder().encode(generateNetworkKey())
    const a = await host({ networkKey: key })
    const b = await host({ networkKey: key })
    const stranger = await host({ networkKey: new TextEncoder().encode(generateNetworkKey()) })
    const open = await host()
    try {
      const conn = await b.dial(a.getMultiaddrs()[0])
      assert.equal(conn.remotePeer.toString(), a.peerId.toString())
      await assert.rejects(stranger.dial(a.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) }))
      await assert.rejects(open.dial(a.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) }))
      assert.equal(a.getConnections(stranger.peerId).length, 0)
      assert.equal(a.getConnections(open.peerId).length, 0)
    } finally {
      await Promise.all([a.stop(), b.stop(), stranger.stop(), open.stop()])
    }
  })

  it('refuses and logs a peer id not on the allow-list, in both directions', async () => {
    const memberKey = await generateKeyPair('Ed25519')
    const strangerKey = await generateKeyPair('Ed25519')
    const { logger, lines } = memoryLogger()
    const member = await createNetwork({ privateKey: memberKey, listen: LOCAL })
    const stranger = await createNetwork({ privateKey: strangerKey, listen: LOCAL })
    const a = await host({ allowPeers: [member.peerId.toString()], logger })
    try {
      await member.dial(a.getMultiaddrs()[0])
      assert.ok(await refused(stranger, a.getMultiaddrs()[0]))
      await new Promise(resolve => setTimeout(resolve, 200))
      assert.equal(a.getConnections(stranger.peerId).length, 0)
      assert.ok(lines.some(l => l.includes(stranger.peerId.toString()) && l.includes('not a member')), lines.join(''))
      await assert.rejects(a.dial(stranger.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) }))
    } finally {
      await Promise.all([a.stop(), member.stop(), stranger.stop()])
    }
  })

  it('sends the site label in identify', async () => {
    const a = await host({ site: 'branch-paris' })
    const b = await host({ site: 'dc' })
    try {
      await b.dial(a.getMultiaddrs()[0])
      const deadline = Date.now() + 5000
      let site: string | undefined
      while (site === undefined && Date.now() < deadline) {
        site = await peerSite(b, a.peerId)
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      assert.equal(site, 'branch-paris')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('checks the network key format', () => {
    assert.throws(() => parseNetworkKey('nope'), InvalidNetworkKeyError)
    assert.ok(parseNetworkKey(generateNetworkKey()).byteLength > 64)
  })
})

describe('network key cipher', () => {
  it('is byte-compatible with @libp2p/pnet (xsalsa20) across arbitrary chunking, and moves bulk data over many connections', async () => {
    const { createRequire } = await import('node:module')
    const require = createRequire(import.meta.url)
    const reference = require('xsalsa20') as (nonce: Uint8Array, key: Uint8Array) => { update: (b: Uint8Array) => Uint8Array }
    const key = crypto.getRandomValues(new Uint8Array(32))
    const nonce = crypto.getRandomValues(new Uint8Array(24))
    const { xorStreamForTest } = await import('../src/pnet.js')
    const ours = xorStreamForTest(key, nonce)
    const theirs = reference(nonce, key)
    for (const n of [1, 63, 64, 65, 100, 4096, 70_000, 3, 1 << 20]) {
      const data = crypto.getRandomValues(new Uint8Array(Math.min(n, 65536)))
      const big = n > 65536 ? new Uint8Array(n).map((_, i) => i & 0xff) : data
      assert.deepEqual(Buffer.from(ours.update(big)), Buffer.from(theirs.update(big)))
    }
    // several connections at once with traffic: @libp2p/pnet's wasm cipher dies here
    const psk = new TextEncoder().encode(generateNetworkKey())
    const hosts = await Promise.all([0, 1, 2, 3].map(async () => await host({ networkKey: psk })))
    try {
      const PROTO = '/test/bulk/1.0.0'
      for (const h of hosts) {
        await h.handle(PROTO, async (stream) => {
          const chunk = new Uint8Array(256 * 1024)
          for (let i = 0; i < 32; i++) if (!stream.send(chunk)) await stream.onDrain()
          await stream.close()
        })
      }
      let total = 0
      await Promise.all(hosts.flatMap((a, i) => hosts.slice(i + 1).map(async b => {
        const stream = await a.dialProtocol(b.getMultiaddrs()[0], PROTO)
        for await (const chunk of stream) total += chunk.byteLength
      })))
      assert.equal(total, 6 * 32 * 256 * 1024)
    } finally {
      await Promise.all(hosts.map(async h => { await h.stop() }))
    }
  })
})
