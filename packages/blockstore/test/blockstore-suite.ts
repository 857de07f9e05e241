/**
 * The Blockstore contract, run against every implementation:
 * `blockstoreSuite('fs', async () => createBlockstore({ path: await tempDir() }))`.
 * `create` returns a fresh, empty, not yet started store.
 */
import { rawStats } from './helpers.js'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { cidOf, DAG_CBOR_CODEC } from '@cachecloud/core'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { sha512 } from 'multiformats/hashes/sha2'
import {
  BlockCorruptError, BlockNotFoundError, BlockstoreClosedError, BlockTooLargeError, MAX_BLOCK_BYTES, UnsupportedCidError,
  type Blockstore
} from '../src/index.js'

function sorted (cids: CID[]): string[] {
  return cids.map(cid => cid.toString()).sort()
}

async function collect (store: Blockstore): Promise<CID[]> {
  const cids: CID[] = []
  for await (const cid of store.cids()) cids.push(cid)
  return cids
}

export function blockstoreSuite (name: string, create: () => Promise<Blockstore>): void {
  describe(`Blockstore contract: ${name}`, () => {
    let store: Blockstore

    beforeEach(async () => {
      store = await create()
      await store.start()
    })

    afterEach(async () => {
      await store.stop()
    })

    it('putBytes returns the same CID as cidOf and get returns the bytes', async () => {
      const bytes = randomBytes(300_000)
      const { cid, written } = await store.putBytes(bytes)
      assert.equal(written, true)
      assert.ok(cid.equals(cidOf(bytes)))
      assert.equal(await store.has(cid), true)
      assert.deepEqual(Buffer.from(await store.get(cid)), bytes)
    })

    it('stores identical blocks once: a second put returns false', async () => {
      const bytes = randomBytes(1000)
      const cid = cidOf(bytes)
      assert.equal(await store.put(cid, bytes), true)
      assert.equal(await store.put(cid, bytes), false)
      assert.equal((await store.putBytes(bytes)).written, false)
      assert.deepEqual(await rawStats(store), { blocks: 1, bytes: 1000 })
    })

    it('concurrent puts of one block write it once', async () => {
      const bytes = randomBytes(50_000)
      const results = await Promise.all(Array.from({ length: 6 }, async () => (await store.putBytes(bytes)).written))
      assert.equal(results.filter(Boolean).length, 1)
      assert.equal((await collect(store)).length, 1)
    })

    it('put rejects bytes that do not hash to the CID, and stores nothing', async () => {
      const bytes = randomBytes(1000)
      const cid = cidOf(bytes)
      const wrong = Buffer.from(bytes)
      wrong[500] ^= 1
      await assert.rejects(store.put(cid, wrong), BlockCorruptError)
      await assert.rejects(store.put(cid, wrong), { code: 'ERR_BLOCK_CORRUPT' })
      assert.equal(await store.has(cid), false)
      assert.deepEqual(await rawStats(store), { blocks: 0, bytes: 0 })
    })

    it('holds dag-cbor blocks beside raw ones with the same bytes', async () => {
      const bytes = randomBytes(100)
      const raw = cidOf(bytes)
      const cbor = cidOf(bytes, DAG_CBOR_CODEC)
      assert.equal(await store.put(cbor, bytes), true)
      assert.equal(await store.has(raw), false)
      assert.equal(await store.put(raw, bytes), true)
      assert.deepEqual(Buffer.from(await store.get(cbor)), bytes)
      assert.deepEqual(sorted(await collect(store)), sorted([raw, cbor]))
    })

    it('refuses CIDs that are not CIDv1 sha2-256', async () => {
      const bytes = randomBytes(100)
      const cid = CID.createV1(0x55, Digest.create(sha512.code, await sha512.encode(bytes)))
      await assert.rejects(store.put(cid, bytes), UnsupportedCidError)
      assert.equal(await store.has(cid), false)
    })

    it('refuses blocks over MAX_BLOCK_BYTES', async () => {
      await assert.rejects(store.putBytes(new Uint8Array(MAX_BLOCK_BYTES + 1)), BlockTooLargeError)
    })

    it('get of an absent block throws BlockNotFoundError', async () => {
      const cid = cidOf(randomBytes(10))
      assert.equal(await store.has(cid), false)
      await assert.rejects(store.get(cid), BlockNotFoundError)
      await assert.rejects(store.get(cid), { name: 'BlockNotFoundError', code: 'ERR_BLOCK_NOT_FOUND' })
    })

    it('delete removes a block; deleting an absent block is not an error', async () => {
      const { cid } = await store.putBytes(randomBytes(10))
      await store.delete(cid)
      assert.equal(await store.has(cid), false)
      await assert.rejects(store.get(cid), BlockNotFoundError)
      await store.delete(cid)
      assert.equal((await store.putBytes(randomBytes(10))).written, true)
    })

    it('cids yields every block once, and stats counts blocks and bytes', async () => {
      const sizes = [0, 1, 1000, 65_536, 262_144]
      const cids: CID[] = []
      for (const size of sizes) cids.push((await store.putBytes(randomBytes(size))).cid)
      await store.putBytes(randomBytes(0)) // duplicate of the empty block
      assert.deepEqual(sorted(await collect(store)), sorted(cids))
      assert.deepEqual(await rawStats(store), { blocks: sizes.length, bytes: sizes.reduce((a, b) => a + b, 0) })
    })

    it('gc keeps live blocks and removes dead ones', async () => {
      const live: CID[] = []
      const dead: CID[] = []
      for (let i = 0; i < 40; i++) (i % 3 === 0 ? dead : live).push((await store.putBytes(randomBytes(100 + i))).cid)
      const liveSet = new Set(live.map(cid => cid.toString()))
      const deadBytes = dead.length * 100 + dead.reduce((sum, _cid, i) => sum + i * 3, 0)
      const result = await store.gc(cid => liveSet.has(cid.toString()))
      assert.deepEqual(result, { removed: dead.length, kept: live.length, freedBytes: deadBytes })
      for (const cid of live) assert.equal(await store.has(cid), true)
      for (const cid of dead) assert.equal(await store.has(cid), false)
      assert.deepEqual(sorted(await collect(store)), sorted(live))
    })

    it('sync is a commit point and blocks stay readable after it', async () => {
      const { cid } = await store.putBytes(randomBytes(4096))
      await store.sync()
      await store.sync()
      assert.equal((await store.get(cid)).byteLength, 4096)
    })

    it('honours an aborted signal', async () => {
      const signal = AbortSignal.abort()
      await assert.rejects(store.putBytes(randomBytes(10), { signal }), { name: 'AbortError' })
      await assert.rejects(store.get(cidOf(randomBytes(10)), { signal }), { name: 'AbortError' })
    })

    it('refuses use after stop', async () => {
      await store.stop()
      await assert.rejects(store.putBytes(randomBytes(10)), BlockstoreClosedError)
      await store.start()
    })
  })
}
