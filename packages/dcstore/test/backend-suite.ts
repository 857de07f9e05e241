import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { cidOf, type CID } from '@cachecloud/core'
import type { BlockBackend } from '../src/index.js'

export interface BackendUnderTest {
  /** A fresh, empty, started backend. */
  backend: BlockBackend
  /** Another backend on the same storage, as a second process would open it (started). */
  reopen: () => Promise<BlockBackend>
  /** Damages the stored copy of a durable block (a torn or rotten object, as the storage could leave it). */
  damage: (user: string, cid: CID) => Promise<void>
  cleanup: () => Promise<void>
}

const block = (n = 1000): { cid: CID, bytes: Uint8Array } => { const bytes = randomBytes(n); return { cid: cidOf(bytes), bytes } }
const collect = async (it: AsyncIterable<CID>): Promise<string[]> => {
  const out: string[] = []
  for await (const c of it) out.push(c.toString())
  return out.sort()
}

/** The contract of every BlockBackend (local directory, shared filesystem, S3). */
export function blockBackendSuite (name: string, create: () => Promise<BackendUnderTest>, options: { skip?: string | false } = {}): void {
  describe(`BlockBackend contract: ${name}`, { skip: options.skip ?? false }, () => {
    let t: BackendUnderTest
    let b: BlockBackend
    before(async () => { t = await create(); b = t.backend })
    after(async () => { await b?.stop(); await t?.cleanup() })

    it('put is idempotent; get returns the bytes; has and size say it is held', async () => {
      const x = block()
      assert.equal(await b.has('alice', x.cid), false)
      assert.equal(await b.size('alice', x.cid), undefined)
      assert.equal(await b.put('alice', x.cid, x.bytes), true)
      assert.equal(await b.put('alice', x.cid, x.bytes), false)
      assert.equal(await b.has('alice', x.cid), true)
      assert.deepEqual(Buffer.from(await b.get('alice', x.cid)), Buffer.from(x.bytes))
      await b.sync('alice')
      assert.equal(await b.put('alice', x.cid, x.bytes), false)
      assert.equal(await b.size('alice', x.cid), 1000)
      assert.deepEqual(Buffer.from(await b.get('alice', x.cid)), Buffer.from(x.bytes))
    })

    it('users are separate; a missing block is BlockNotFoundError', async () => {
      const x = block()
      await b.put('alice', x.cid, x.bytes)
      await b.sync('alice')
      assert.equal(await b.has('bob', x.cid), false)
      await assert.rejects(b.get('bob', x.cid), { code: 'ERR_BLOCK_NOT_FOUND' })
    })

    it('refuses, before storing anything: bytes that do not hash to the CID, a block past the bound, a user name that is not one', async () => {
      const x = block()
      await assert.rejects(b.put('alice', x.cid, randomBytes(1000)), { code: 'ERR_BLOCK_CORRUPT' })
      assert.equal(await b.has('alice', x.cid), false)
      const big = new Uint8Array(16 * 1024 * 1024 + 1)
      await assert.rejects(b.put('alice', cidOf(big), big), { code: 'ERR_BLOCK_TOO_LARGE' })
      await assert.rejects(b.put('../etc', x.cid, x.bytes), { code: 'ERR_INVALID_ENROLLMENT' })
      await assert.rejects(b.get('a/b', x.cid), { code: 'ERR_INVALID_ENROLLMENT' })
    })

    it('lists the user\'s durable blocks; delete removes one (absent: no error)', async () => {
      const xs = [block(10), block(20), block(30)]
      for (const x of xs) await b.put('carol', x.cid, x.bytes)
      await b.sync('carol')
      assert.deepEqual(await collect(b.cids('carol')), xs.map(x => x.cid.toString()).sort())
      await b.delete('carol', xs[1].cid)
      await b.delete('carol', xs[1].cid)
      await b.sync('carol')
      assert.equal(await b.has('carol', xs[1].cid), false)
      assert.deepEqual(await collect(b.cids('carol')), [xs[0], xs[2]].map(x => x.cid.toString()).sort())
      assert.deepEqual(await collect(b.cids('nobody')), [])
    })

    it('a synced block is there for the next process', async () => {
      const x = block()
      await b.put('dave', x.cid, x.bytes)
      await b.sync('dave')
      await b.stop()
      b = await t.reopen()
      assert.deepEqual(Buffer.from(await b.get('dave', x.cid)), Buffer.from(x.bytes))
    })

    it('a damaged stored copy is never returned: BlockCorruptError', async () => {
      const x = block(5000)
      await b.put('erin', x.cid, x.bytes)
      await b.sync('erin')
      await b.stop()
      await t.damage('erin', x.cid)
      b = await t.reopen()
      await assert.rejects(b.get('erin', x.cid), (err: { code?: string }) => err.code === 'ERR_BLOCK_CORRUPT' || err.code === 'ERR_BLOCK_NOT_FOUND')
    })

    it('the blockstore view: gc deletes what is not live', async () => {
      const xs = [block(10), block(20)]
      const store = await b.blockstore('frank')
      for (const x of xs) await store.put(x.cid, x.bytes)
      await store.sync()
      const gc = await store.gc(cid => cid.equals(xs[0].cid))
      assert.equal(gc.removed, 1)
      assert.equal(await store.has(xs[0].cid), true)
      assert.equal(await store.has(xs[1].cid), false)
    })

    it('several writers at once (multi-writer backends): the same blocks put by two processes, one copy each, both read it', async (ctx) => {
      if (!b.multiWriter) { ctx.skip('single-writer backend (the data-directory lock keeps to one process)'); return }
      const other = await t.reopen()
      try {
        const xs = Array.from({ length: 20 }, () => block(2000))
        const results = await Promise.all([b, other].map(async w => {
          const r = await Promise.all(xs.map(async x => await w.put('gina', x.cid, x.bytes)))
          await w.sync('gina')
          return r
        }))
        for (const x of xs) {
          assert.deepEqual(Buffer.from(await b.get('gina', x.cid)), Buffer.from(x.bytes))
          assert.deepEqual(Buffer.from(await other.get('gina', x.cid)), Buffer.from(x.bytes))
        }
        assert.equal(results.flat().length, 40)
        assert.deepEqual(await collect(b.cids('gina')), xs.map(x => x.cid.toString()).sort())
      } finally { await other.stop() }
    })

    it('a block put but not synced by a writer that dies is absent or whole for the others, never torn (multi-writer backends)', async (ctx) => {
      if (!b.multiWriter) { ctx.skip('single-writer backend'); return }
      const dying = await t.reopen()
      const x = block()
      await dying.put('hank', x.cid, x.bytes) // never synced: the process is "killed" here
      const other = await t.reopen()
      try {
        // the shared filesystem links a block into place only at sync; an S3 put acknowledged is durable at once
        if (await other.has('hank', x.cid)) assert.deepEqual(Buffer.from(await other.get('hank', x.cid)), Buffer.from(x.bytes))
        else assert.deepEqual(await collect(other.cids('hank')), [])
      } finally { await other.stop() }
    })
  })
}
