import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { FileRow, HoldRow, MatterRow, SnapshotRow, VersionIndex } from '../src/index.js'

/** The contract of every VersionIndex backend. `create` returns a fresh, empty index. */
export function versionIndexSuite (name: string, create: () => Promise<{ index: VersionIndex, cleanup: () => Promise<void> }>): void {
  describe(`VersionIndex contract: ${name}`, () => {
    let index: VersionIndex
    let cleanup: () => Promise<void>
    const snap = (cid: string, user: string, node: string, timeMs: number): SnapshotRow => ({ cid, user, node, timeMs, parent: null, root: 'root-' + cid, files: 2, bytes: 30, committedMs: timeMs + 5 })
    const file = (s: SnapshotRow, path: string, sha256: string): FileRow => ({ snapshot: s.cid, user: s.user, node: s.node, path, kind: 'file', size: 10, sha256, mtimeMs: 1000, mode: 0o644, snapshotMs: s.timeMs })
    const s1 = snap('s1', 'alice', 'n1', 1000)
    const s2 = snap('s2', 'alice', 'n1', 2000)
    const s3 = snap('s3', 'bob', 'n2', 1500)

    before(async () => {
      ({ index, cleanup } = await create())
      await index.start()
    })
    after(async () => { await index.stop(); await cleanup() })

    it('commits a snapshot with its files once; a repeat is a no-op', async () => {
      assert.equal(await index.hasSnapshot('s1'), false)
      assert.equal(await index.commitSnapshot(s1, [file(s1, 'docs/a.txt', 'aa'), file(s1, 'b.txt', 'bb')]), true)
      assert.equal(await index.commitSnapshot(s1, [file(s1, 'docs/a.txt', 'aa'), file(s1, 'b.txt', 'bb')]), false)
      assert.equal(await index.hasSnapshot('s1'), true)
      assert.deepEqual((await index.files('s1')).map(f => f.path), ['b.txt', 'docs/a.txt'])
      assert.deepEqual(await index.files('s1'), [file(s1, 'b.txt', 'bb'), file(s1, 'docs/a.txt', 'aa')])
    })

    it('a failing commit leaves nothing behind', async () => {
      const bad = snap('bad', 'alice', 'n1', 1200)
      await assert.rejects(index.commitSnapshot(bad, [file(bad, 'x', 'xx'), file(bad, 'x', 'xx')]))
      assert.equal(await index.hasSnapshot('bad'), false)
      assert.deepEqual(await index.files('bad'), [])
    })

    it('lists snapshots by user, node and time, oldest first', async () => {
      await index.commitSnapshot(s3, [file(s3, 'b.txt', 'cc')])
      await index.commitSnapshot(s2, [file(s2, 'docs/a.txt', 'dd')])
      assert.deepEqual((await index.snapshots({})).map(s => s.cid), ['s1', 's3', 's2'])
      assert.deepEqual((await index.snapshots({ user: 'alice' })).map(s => s.cid), ['s1', 's2'])
      assert.deepEqual((await index.snapshots({ user: 'alice', toMs: 1999 })).map(s => s.cid), ['s1'])
      assert.deepEqual((await index.snapshots({ fromMs: 1500, toMs: 1500 })).map(s => s.cid), ['s3'])
      assert.deepEqual(await index.snapshots({ node: 'n2' }), [s3])
    })

    it('gives the last snapshot of each node of a user at or before a time', async () => {
      const other = snap('s4', 'alice', 'n3', 1800)
      await index.commitSnapshot(other, [file(other, 'c.txt', 'ee')])
      assert.deepEqual((await index.latestSnapshots('alice', 5000)).map(s => s.cid), ['s4', 's2'])
      assert.deepEqual((await index.latestSnapshots('alice', 1900)).map(s => s.cid), ['s1', 's4'])
      assert.deepEqual(await index.latestSnapshots('alice', 999), [])
      assert.deepEqual((await index.latestSnapshots('bob', 5000)).map(s => s.cid), ['s3'])
      assert.equal(await index.removeSnapshots(['s4']), 1)
    })

    it('searches by glob and by hash, across users or for one', async () => {
      assert.deepEqual((await index.search({ glob: 'docs/*' })).map(f => f.snapshot), ['s1', 's2'])
      assert.deepEqual((await index.search({ glob: '*.txt', user: 'bob' })).map(f => f.sha256), ['cc'])
      assert.deepEqual((await index.search({ sha256: 'BB' })).map(f => `${f.snapshot}:${f.path}`), ['s1:b.txt'])
      assert.deepEqual(await index.search({ sha256: 'nothing' }), [])
    })

    it('retention removes snapshots with their files, and nothing else', async () => {
      assert.equal(await index.removeSnapshots(['s1', 'missing']), 1)
      assert.equal(await index.hasSnapshot('s1'), false)
      assert.deepEqual(await index.files('s1'), [])
      assert.deepEqual((await index.snapshots({})).map(s => s.cid), ['s3', 's2'])
      assert.deepEqual((await index.search({ glob: 'docs/*' })).map(f => f.snapshot), ['s2'])
    })

    const matter = (id: string, fromMs: number | null): MatterRow => ({ id, name: `Matter ${id}`, custodians: ['alice', 'bob'], fromMs, toMs: fromMs === null ? null : fromMs + 10, createdMs: 100, createdBy: 'counsel' })
    const hold = (id: string, m: string, custodian: string, placedMs: number, glob: string | null = null): HoldRow => ({
      id, matter: m, custodian, fromMs: null, toMs: 2_000_000_000_000, glob, placedMs, placedBy: 'counsel', reason: 'complaint filed', releasedMs: null, releasedBy: null, releaseReason: null
    })

    it('keeps matters: created once, read back whole, listed by id', async () => {
      assert.equal(await index.createMatter(matter('m2', null)), true)
      assert.equal(await index.createMatter(matter('m1', 1_700_000_000_000)), true)
      assert.equal(await index.createMatter({ ...matter('m1', null), name: 'other' }), false)
      assert.deepEqual(await index.getMatter('m1'), matter('m1', 1_700_000_000_000))
      assert.equal(await index.getMatter('nope'), undefined)
      assert.deepEqual((await index.matters()).map(m => m.id), ['m1', 'm2'])
      assert.deepEqual((await index.matters())[1], matter('m2', null))
    })

    it('keeps holds: placed in an existing matter, listed by matter, custodian and activity, released once', async () => {
      await index.placeHold(hold('h2', 'm1', 'alice', 20, '*.pdf'))
      await index.placeHold(hold('h1', 'm1', 'bob', 10))
      await index.placeHold(hold('h3', 'm2', 'alice', 30))
      await assert.rejects(index.placeHold(hold('h4', 'no-such-matter', 'alice', 40)))
      await assert.rejects(index.placeHold(hold('h1', 'm2', 'alice', 50)))
      assert.deepEqual((await index.holds({})).map(h => h.id), ['h1', 'h2', 'h3'])
      assert.deepEqual(await index.holds({ matter: 'm1', custodian: 'alice' }), [hold('h2', 'm1', 'alice', 20, '*.pdf')])
      assert.equal(await index.releaseHold('h2', { releasedMs: 60, releasedBy: 'partner', releaseReason: 'settled' }), true)
      assert.equal(await index.releaseHold('h2', { releasedMs: 70, releasedBy: 'x', releaseReason: 'again' }), false)
      assert.equal(await index.releaseHold('missing', { releasedMs: 70, releasedBy: 'x', releaseReason: 'none' }), false)
      assert.deepEqual((await index.holds({ active: true })).map(h => h.id), ['h1', 'h3'])
      assert.deepEqual((await index.holds({ custodian: 'alice' }))[0], { ...hold('h2', 'm1', 'alice', 20, '*.pdf'), releasedMs: 60, releasedBy: 'partner', releaseReason: 'settled' })
    })
  })
}
