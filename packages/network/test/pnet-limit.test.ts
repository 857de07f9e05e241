import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Connection, Libp2p } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { PskProtector, type PskProtectorInit } from '../src/pnet.js'
import { PNET_CIPHER_MAX_BYTES } from '../src/constants.js'
import { isConnectionScopedError } from '../src/connection-errors.js'
import { PnetByteLimitError, PnetCipherError } from '../src/errors.js'

// Issue 12: with a network key, one connection that carried about 256 GiB one
// way made noble's xsalsa20 throw ("arx: counter overflow") inside libp2p's
// send path, and the process exited. The limit and the counter are injected
// so that the test reaches both in a few hundred KiB.

const SINK = '/cachecloud-test/sink/1.0.0'
const ECHO = '/cachecloud-test/echo/1.0.0'
const psk = randomBytes(32)
const nodes: Libp2p[] = []
const uncaught: unknown[] = []
const onUncaught = (err: unknown): void => { uncaught.push(err) }
process.on('uncaughtException', onUncaught)
process.on('unhandledRejection', onUncaught)

async function node (init: PskProtectorInit): Promise<Libp2p> {
  const n = await createLibp2p({
    privateKey: await generateKeyPair('Ed25519'),
    addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    connectionProtector: () => new PskProtector(psk, init)
  })
  await n.handle(SINK, async (stream) => { try { for await (const _ of stream) { /* discard */ } } catch { /* the connection is aborted under it */ } })
  await n.handle(ECHO, async (stream) => {
    for await (const chunk of stream) { if (!stream.send(chunk.subarray())) await stream.onDrain() }
    await stream.close()
  })
  nodes.push(n)
  return n
}

/**
 * Sends `bytes` on a new sink stream; resolves with what was accepted before the stream failed (or all), and
 * `thrownBySend`: an error that `send()` itself threw at the application (the cipher's, before the fix).
 */
async function pour (conn: Connection, bytes: number): Promise<{ sent: number, error?: Error, thrownBySend?: Error }> {
  const stream = await conn.newStream(SINK)
  const chunk = new Uint8Array(64 * 1024)
  let sent = 0
  try {
    while (sent < bytes) {
      let more: boolean
      try {
        more = stream.send(chunk)
      } catch (err) {
        if (stream.status === 'open' || !/stream that is|Cannot write/i.test((err as Error).message)) return { sent, error: err as Error, thrownBySend: err as Error }
        throw err
      }
      if (!more) await stream.onDrain({ signal: AbortSignal.timeout(10_000) })
      sent += chunk.byteLength
    }
    await stream.close({ signal: AbortSignal.timeout(10_000) })
    return { sent }
  } catch (err) {
    return { sent, error: err as Error }
  }
}

async function echo (conn: Connection, text: string): Promise<string> {
  const stream = await conn.newStream(ECHO, { signal: AbortSignal.timeout(5000) })
  stream.send(new TextEncoder().encode(text))
  await stream.close()
  let back = ''
  for await (const chunk of stream) back += new TextDecoder().decode(chunk.subarray())
  return back
}

async function closed (conn: Connection, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (conn.status === 'open') {
    if (Date.now() > until) assert.fail(`connection still ${conn.status} after ${timeoutMs} ms`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

describe('private network: a connection at its cipher limit is closed, the process lives', () => {
  after(async () => {
    await Promise.all(nodes.map(async n => n.stop()))
    process.off('uncaughtException', onUncaught)
    process.off('unhandledRejection', onUncaught)
  })

  it('closes a connection that reaches maxBytesPerDirection, and a new connection works', async () => {
    const limit = 512 * 1024
    const a = await node({ maxBytesPerDirection: limit })
    const b = await node({ maxBytesPerDirection: limit })
    const conn = await b.dial(a.getMultiaddrs()[0])
    assert.equal(await echo(conn, 'before'), 'before')
    const result = await pour(conn, 4 * limit)
    await closed(conn)
    assert.ok(result.error !== undefined || result.sent < 4 * limit, 'the stream does not carry everything')
    assert.ok(result.sent <= limit + 256 * 1024, `no more than the limit went out (${result.sent} bytes accepted)`)
    assert.deepEqual(uncaught, [], 'nothing escaped to the process')

    const again = await b.dial(a.getMultiaddrs()[0])
    assert.notEqual(again.id, conn.id)
    assert.equal(await echo(again, 'after'), 'after', 'a new connection has a new key stream and works')
  })

  it('closes a connection on which the peer sends more than our limit (the receiving side counts too)', async () => {
    const limit = 512 * 1024
    const a = await node({ maxBytesPerDirection: limit })
    const b = await node({})
    const conn = await b.dial(a.getMultiaddrs()[0])
    await pour(conn, 4 * limit) // the sender may get it all into socket buffers before the receiver's abort arrives
    await closed(conn)
    assert.equal(a.getConnections(b.peerId).length, 0, 'the receiving node dropped it')
    assert.deepEqual(uncaught, [])
    assert.equal(await echo(await b.dial(a.getMultiaddrs()[0]), 'again'), 'again')
  })

  it('turns the cipher\'s own failure (noble\'s "arx: counter overflow") into an aborted connection, not an exception', async () => {
    // both key streams start 1024 blocks (64 KiB) before noble's counter limit, and no byte limit stops them first
    const init = { maxBytesPerDirection: PNET_CIPHER_MAX_BYTES, initialBlock: 2 ** 32 - 1 - 1024 }
    const a = await node(init)
    const b = await node(init)
    const conn = await b.dial(a.getMultiaddrs()[0])
    assert.equal(await echo(conn, 'small'), 'small')
    const result = await pour(conn, 1024 * 1024)
    await closed(conn)
    assert.equal(result.thrownBySend, undefined, `the cipher's failure does not escape through send() (${result.thrownBySend?.message ?? ''})`)
    assert.deepEqual(uncaught, [], 'nothing escaped to the process')
    const again = await b.dial(a.getMultiaddrs()[0])
    assert.equal(await echo(again, 'still here'), 'still here')
  })

  it('the daemon\'s last resort tells errors of one connection from the rest', () => {
    assert.equal(isConnectionScopedError(new PnetCipherError('x')), true)
    assert.equal(isConnectionScopedError(new PnetByteLimitError('x')), true)
    assert.equal(isConnectionScopedError(new Error('arx: counter overflow')), true, 'noble\'s own throw')
    assert.equal(isConnectionScopedError(Object.assign(new Error('stream reset'), { name: 'StreamResetError' })), true)
    assert.equal(isConnectionScopedError(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), true)
    assert.equal(isConnectionScopedError(new Error('wrapped', { cause: new PnetCipherError('x') })), true)
    assert.equal(isConnectionScopedError(new TypeError('Cannot read properties of undefined')), false)
    assert.equal(isConnectionScopedError(Object.assign(new Error('disk full'), { code: 'ENOSPC' })), false)
    assert.equal(isConnectionScopedError('a string'), false)
  })
})
