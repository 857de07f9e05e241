import './helpers.js'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { ProgressEvent } from '@cachecloud/core'
import { UntrustedPublisherError, generatePublisherKey } from '@cachecloud/manifest'
import { VersionUnavailableError } from '../src/index.js'
import { addVersion, makeManifest, countHeld, distinctBytes, randomBlocks, startNode, verifyAll, type TestNode } from './helpers.js'

describe('pull between two nodes', () => {
  let a: TestNode
  let b: TestNode
  const v1 = randomBlocks(80, 64 * 1024)
  // v2: five blocks changed, one hole filled, the rest shared with v1
  const v2 = v1.map((block, i) => [3, 20, 41, 42, 77].includes(i) ? new Uint8Array(64 * 1024).fill(i + 1) : block)
  v2[5] = new Uint8Array(64 * 1024).fill(0xee)

  before(async () => {
    a = await startNode()
    b = await startNode()
    await addVersion(a, { version: 'v1', blocks: v1 })
    await addVersion(a, { version: 'v2', blocks: v2 })
  })
  after(async () => { await Promise.all([a?.stop(), b?.stop()]) })

  it('lists versions and serves manifests', async () => {
    const versions = await b.transfer.listVersions(a.addr)
    assert.deepEqual(versions.map(v => `${v.name}@${v.version}:${v.state}`).sort(), ['disk@v1:complete', 'disk@v2:complete'])
    const manifest = await b.transfer.fetchManifest(a.addr, versions[0].cid)
    assert.equal(manifest.name, 'disk')
    assert.deepEqual(await b.transfer.listVersions(a.addr, { name: 'other' }), [])
  })

  it('pulls every distinct non-hole block, verified, and records the version complete', async () => {
    const events: ProgressEvent[] = []
    const result = await b.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [a.addr], onProgress: e => events.push(e) })
    const expected = distinctBytes(v1)
    assert.equal(result.fetchedBlocks, expected.count)
    assert.equal(result.fetchedBytes, expected.bytes)
    assert.equal(result.heldBlocks, 0)
    assert.equal(result.holes, v1.filter(x => x === null).length)
    assert.deepEqual(result.bytesByPeer, { [a.libp2p.peerId.toString()]: expected.bytes })
    assert.ok(result.wireBytes > expected.bytes && result.wireBytes < expected.bytes * 1.01)
    assert.equal(await countHeld(b, v1), expected.count)
    assert.equal(await verifyAll(b), expected.count + 1) // and the manifest
    assert.equal((await b.catalog.get({ name: 'disk', version: 'v1' })).state, 'complete')
    const last = events.at(-1)!
    assert.equal(last.type, 'pull:block')
    assert.equal(last.done, expected.bytes)
    assert.equal(last.total, expected.bytes)
    assert.equal(last.detail?.blocksDone, expected.count)

    const again = await b.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [a.addr] })
    assert.equal(again.fetchedBytes, 0)
    assert.equal(again.wireBytes, 0)
    assert.equal(again.heldBlocks, expected.count)
  })

  it('pulls v2 over v1 fetching only the changed blocks', async () => {
    const result = await b.transfer.pull({ ref: { name: 'disk', version: 'v2' }, peers: [a.addr] })
    const missing = 6 * 64 * 1024
    assert.equal(result.fetchedBlocks, 6)
    assert.equal(result.fetchedBytes, missing)
    // the changed blocks are constant bytes: they travel as zstd frames of a few dozen bytes each
    assert.ok(result.wireBytes > 0 && result.wireBytes < missing / 100, `wire ${result.wireBytes}`)
    assert.equal(result.heldBlocks, distinctBytes(v2).count - 6)
    assert.equal((await b.catalog.get({ name: 'disk', version: 'v2' })).state, 'complete')
  })

  it('fails clearly when no peer has the version', async () => {
    await assert.rejects(b.transfer.pull({ ref: { name: 'disk', version: 'v9' }, peers: [a.addr] }), VersionUnavailableError)
  })
})

describe('interrupted pull', () => {
  it('resumes without fetching the blocks stored before the abort', async () => {
    const a = await startNode()
    const b = await startNode({ maxInFlightBytes: 1024 * 1024, batchBytes: 256 * 1024 })
    try {
      const blocks = randomBlocks(400, 64 * 1024)
      await addVersion(a, { version: 'big', blocks })
      const ref = { name: 'disk', version: 'big' }
      const controller = new AbortController()
      await assert.rejects(b.transfer.pull({
        ref,
        peers: [a.addr],
        signal: controller.signal,
        onProgress: e => { if (Number(e.detail?.blocksDone) >= 100) controller.abort(new Error('stop here')) }
      }), /stop here/)
      assert.equal((await b.catalog.get(ref)).state, 'pulling')
      const held = await countHeld(b, blocks)
      const total = distinctBytes(blocks)
      assert.ok(held >= 100 && held < total.count, `held ${held}`)
      const result = await b.transfer.pull({ ref, peers: [a.addr] })
      assert.equal(result.heldBlocks, held)
      assert.equal(result.fetchedBlocks, total.count - held)
      assert.equal(await countHeld(b, blocks), total.count)
      assert.equal((await b.catalog.get(ref)).state, 'complete')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })
})

describe('publisher trust', () => {
  it('refuses a manifest signed by an untrusted key and stores nothing', async () => {
    const a = await startNode()
    const b = await startNode()
    try {
      const stranger = generatePublisherKey()
      await addVersion(a, { version: 'v1', blocks: randomBlocks(10, 64 * 1024), key: stranger })
      await assert.rejects(b.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [a.addr] }), UntrustedPublisherError)
      assert.equal(await b.catalog.find({ name: 'disk', version: 'v1' }), undefined)
      assert.deepEqual(await b.catalog.list(), [])
      assert.equal((await b.blockstore.stats()).blocks, 0)
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('a manifest of an untrusted key offered by more peers does not keep a trusted one from being pulled', async () => {
    const honest = await startNode()
    const liars = [await startNode(), await startNode()]
    const b = await startNode()
    try {
      const stranger = generatePublisherKey()
      const blocks = randomBlocks(6, 64 * 1024)
      const { cid } = await addVersion(honest, { version: 'v1', blocks })
      // the same name and version, signed by a key b does not trust, offered complete by two peers: it wins the vote
      const forged = { version: 'v1', blocks: randomBlocks(6, 64 * 1024), key: stranger }
      const forgedManifest = makeManifest(forged)
      for (const liar of liars) await addVersion(liar, forged, forgedManifest)
      const result = await b.transfer.pull({ ref: { name: 'disk', version: 'v1' }, peers: [...liars.map(l => l.addr), honest.addr] })
      assert.ok(result.cid.equals(cid), 'the trusted manifest')
      assert.equal(result.bytesByPeer[liars[0].libp2p.peerId.toString()] ?? 0, 0)
      assert.equal((await b.catalog.find({ name: 'disk', version: 'v1' }))?.state, 'complete')
    } finally {
      await Promise.all([honest.stop(), ...liars.map(async l => { await l.stop() }), b.stop()])
    }
  })
})
