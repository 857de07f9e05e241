import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNetwork, generateNetworkKey, InvalidEncryptersError, type CachePointLibp2p, type NetworkInit } from '../src/index.js'

const LOCAL = ['/ip4/127.0.0.1/tcp/0']
const ECHO = '/test/echo/1.0.0'
const TLS = '/tls/1.0.0'
const NOISE = '/noise'

/** A host that echoes every stream on ECHO back to its sender. */
async function host (init: Partial<NetworkInit> = {}): Promise<CachePointLibp2p> {
  const node = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: LOCAL, ...init })
  await node.handle(ECHO, async (stream) => {
    for await (const chunk of stream) if (!stream.send(chunk)) await stream.onDrain()
    await stream.close()
  })
  return node
}

/** Dials `to` from `from`, sends `bytes` through an echo stream and checks they come back; returns the encryption negotiated. */
async function exchange (from: CachePointLibp2p, to: CachePointLibp2p, bytes = 1024 * 1024): Promise<string | undefined> {
  const connection = await from.dial(to.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
  assert.equal(connection.remotePeer.toString(), to.peerId.toString())
  const stream = await connection.newStream(ECHO, { signal: AbortSignal.timeout(10_000) })
  const data = randomBytes(bytes)
  const received: Buffer[] = []
  const reading = (async () => { for await (const chunk of stream) received.push(Buffer.from(chunk.subarray())) })()
  for (let off = 0; off < data.byteLength; off += 64 * 1024) {
    if (!stream.send(data.subarray(off, off + 64 * 1024))) await stream.onDrain()
  }
  await stream.close()
  await reading
  assert.ok(Buffer.concat(received).equals(data), 'the echoed bytes differ from those sent')
  return connection.encryption
}

describe('connection encryption', () => {
  it('two default hosts negotiate TLS 1.3 and exchange a stream', async () => {
    const [a, b] = await Promise.all([host(), host()])
    try {
      assert.equal(await exchange(a, b), TLS)
      assert.equal(b.getConnections(a.peerId)[0]?.encryption, TLS)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('a TLS-first host and a Noise-only host connect both ways over Noise', async () => {
    for (const dialerPrefersTls of [true, false]) {
      const [tlsFirst, noiseOnly] = await Promise.all([host({ encrypters: ['tls', 'noise'] }), host({ encrypters: ['noise'] })])
      try {
        const encryption = dialerPrefersTls ? await exchange(tlsFirst, noiseOnly) : await exchange(noiseOnly, tlsFirst)
        assert.equal(encryption, NOISE, `dialer ${dialerPrefersTls ? 'TLS-first' : 'Noise-only'}`)
      } finally {
        await Promise.all([tlsFirst.stop(), noiseOnly.stop()])
      }
    }
  })

  it('the order is the preference: a Noise-first dialer gets Noise from a TLS-first listener', async () => {
    const [noiseFirst, tlsFirst] = await Promise.all([host({ encrypters: ['noise', 'tls'] }), host()])
    try {
      assert.equal(await exchange(noiseFirst, tlsFirst), NOISE)
    } finally {
      await Promise.all([noiseFirst.stop(), tlsFirst.stop()])
    }
  })

  it('TLS runs inside the network key protector; a host without the key is refused', async () => {
    const key = new TextEncoder().encode(generateNetworkKey())
    const [a, b, stranger] = await Promise.all([host({ networkKey: key }), host({ networkKey: key }), host()])
    try {
      assert.equal(await exchange(a, b, 8 * 1024 * 1024), TLS)
      await assert.rejects(stranger.dial(a.getMultiaddrs()[0], { signal: AbortSignal.timeout(5000) }))
      assert.equal(a.getConnections(stranger.peerId).length, 0)
    } finally {
      await Promise.all([a.stop(), b.stop(), stranger.stop()])
    }
  })

  it('refuses an unknown, repeated or empty encrypter list with one line', async () => {
    const privateKey = await generateKeyPair('Ed25519')
    for (const encrypters of [['tls', 'quic'], ['noise', 'noise'], []]) {
      await assert.rejects(createNetwork({ privateKey, listen: LOCAL, encrypters: encrypters as NetworkInit['encrypters'] }), (err: Error) => {
        assert.ok(err instanceof InvalidEncryptersError)
        assert.equal((err as InvalidEncryptersError).code, 'ERR_INVALID_ENCRYPTERS')
        assert.ok(!err.message.includes('\n'))
        return true
      })
    }
  })
})
