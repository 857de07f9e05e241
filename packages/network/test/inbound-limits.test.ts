import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { MultiaddrConnection } from '@libp2p/interface'
import { multiaddr } from '@multiformats/multiaddr'
import { createInboundRateGater } from '../src/index.js'
import { host, memoryLogger } from './helpers.js'

const from = (ip: string): MultiaddrConnection => ({ remoteAddr: multiaddr(`/ip4/${ip}/tcp/40000`) }) as unknown as MultiaddrConnection

describe('inbound connection limits', () => {
  it('allows a burst of perHostPerSecond per host, refills at that rate, and logs refusals at warn with their count', () => {
    let now = 1_000_000
    const { logger, lines } = memoryLogger()
    const gater = createInboundRateGater({ perHostPerSecond: 3, maxPending: 10, maxConnections: 100 }, logger, () => now)
    const deny = (ip: string): boolean => gater.denyInboundConnection?.(from(ip)) as boolean
    assert.deepEqual([deny('10.0.0.1'), deny('10.0.0.1'), deny('10.0.0.1'), deny('10.0.0.1'), deny('10.0.0.1')], [false, false, false, true, true])
    assert.equal(deny('10.0.0.2'), false, 'another host has its own budget')
    assert.equal(lines.length, 1, 'one warning, not one per refusal')
    const warning = JSON.parse(lines[0] as string) as { level: number, msg: string, host: string }
    assert.equal(warning.level, 40)
    assert.equal(warning.host, '10.0.0.1')
    assert.match(warning.msg, /refused 1 inbound connection from 10\.0\.0\.1: more than 3 per second from one host \(inbound\.perHostPerSecond\)/)
    now += 500
    assert.equal(deny('10.0.0.1'), false, 'half a second refills one and a half')
    assert.equal(deny('10.0.0.1'), true)
    now += 10_000
    assert.deepEqual([deny('10.0.0.1'), deny('10.0.0.1'), deny('10.0.0.1'), deny('10.0.0.1')], [false, false, false, true])
    assert.equal(lines.length, 2)
    assert.match((JSON.parse(lines[1] as string) as { msg: string }).msg, /refused 3 inbound connections/, 'the count refused since the last warning')
  })

  it('a seed accepts a dozen peers from one address connecting at the same moment (libp2p alone refused the sixth)', async () => {
    const seed = await host()
    const clients = await Promise.all(Array.from({ length: 12 }, async () => await host()))
    try {
      const results = await Promise.allSettled(clients.map(async c => await c.dial(seed.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })))
      const failed = results.filter(r => r.status === 'rejected').map(r => String((r as PromiseRejectedResult).reason))
      assert.deepEqual(failed, [])
      // the seed registers a connection a moment after the dialler's dial resolves
      for (let i = 0; i < 50 && seed.getConnections().length < 12; i++) await new Promise(resolve => setTimeout(resolve, 50))
      assert.equal(seed.getConnections().length, 12)
    } finally {
      await Promise.all([seed.stop(), ...clients.map(async c => { await c.stop() })])
    }
  })

  it('the configured per-host rate is enforced on real connections, and the refusal logged', async () => {
    const { logger, lines } = memoryLogger()
    const seed = await host({ inbound: { perHostPerSecond: 2, maxPending: 10, maxConnections: 100 }, logger })
    const clients = await Promise.all(Array.from({ length: 5 }, async () => await host()))
    try {
      const results = await Promise.allSettled(clients.map(async c => {
        const conn = await c.dial(seed.getMultiaddrs()[0], { signal: AbortSignal.timeout(10_000) })
        await conn.newStream('/ipfs/id/1.0.0', { signal: AbortSignal.timeout(5000) })
      }))
      const refused = results.filter(r => r.status === 'rejected').length
      assert.ok(refused >= 2, `${refused} of 5 refused`)
      assert.ok(lines.some(l => /more than 2 per second from one host/.test(l)), 'a warning names the limit')
    } finally {
      await Promise.all([seed.stop(), ...clients.map(async c => { await c.stop() })])
    }
  })
})
