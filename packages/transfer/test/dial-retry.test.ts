import './helpers.js'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { addVersion, countHeld, distinctBytes, randomBlocks, startNode, verifyAll } from './helpers.js'

describe('pulls survive a seed refusing connections for a moment', () => {
  it('four pullers starting together against a seed that accepts 2 connections per second per host all complete (refused dials retried with backoff)', async () => {
    const seed = await startNode({ network: { inbound: { perHostPerSecond: 2, maxPending: 10, maxConnections: 100 } } })
    const pullers = await Promise.all(Array.from({ length: 4 }, async () => await startNode()))
    try {
      const blocks = randomBlocks(24, 64 * 1024)
      await addVersion(seed, { version: 'v1', blocks })
      const results = await Promise.allSettled(pullers.map(async p => await p.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [seed.addr] })))
      const failed = results.filter(r => r.status === 'rejected').map(r => String((r as PromiseRejectedResult).reason))
      assert.deepEqual(failed, [])
      for (const p of pullers) {
        await verifyAll(p)
        assert.equal(await countHeld(p, blocks), distinctBytes(blocks).count)
        assert.equal((await p.catalog.find({ name: 'disk', version: 'v1' }))?.state, 'complete')
      }
    } finally {
      await Promise.all([seed.stop(), ...pullers.map(async p => { await p.stop() })])
    }
  })
})
