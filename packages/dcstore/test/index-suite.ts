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

    it('text index: pending contents, put once, phrase search with snippets in scope, coverage, text leaves with its last version', async () => {
      // left by the tests above: s2 (alice docs/a.txt dd), s3 (bob b.txt cc)
      assert.deepEqual((await index.pendingText(10)).map(p => [p.sha256, p.user, p.snapshot, p.path]), [['dd', 'alice', 's2', 'docs/a.txt'], ['cc', 'bob', 's3', 'b.txt']])
      assert.deepEqual((await index.pendingText(10, { snapshot: 's2', path: 'docs/a.txt' })).map(p => p.sha256), ['cc'])
      assert.deepEqual((await index.pendingText(1)).map(p => p.sha256), ['dd'])
      // a backend indexes the words it is given (blind tokens from text-tokens.ts; plain words here) and keeps the sealed bytes as they are
      const sealed = Buffer.from('sealed bytes \u0000\u00ff')
      await index.putText({ sha256: 'dd', status: 'indexed', reason: null, chars: 40, indexedMs: 1 }, { blinded: 'the project phoenix budget is due phoenix rises', sealed })
      assert.deepEqual((await index.pendingText(10)).map(p => p.sha256), ['cc'])
      await index.putText({ sha256: 'cc', status: 'failed', reason: 'not a readable PDF', chars: 0, indexedMs: 2 }, null)
      await index.putText({ sha256: 'cc', status: 'unsupported', reason: 'no text extractor for .bin files', chars: 0, indexedMs: 3 }, null)
      assert.deepEqual(await index.pendingText(10), [])
      assert.deepEqual(await index.textCounts(), { contents: 2, byStatus: { indexed: 1, unsupported: 1 } })
      const all = { snapshots: ['s2', 's3'] }
      const hits = await index.searchText(['project phoenix'], all, 10)
      assert.deepEqual(hits.map(h => [h.user, h.path, h.sha256, h.snapshot, h.snapshotMs]), [['alice', 'docs/a.txt', 'dd', 's2', 2000]])
      assert.deepEqual(Buffer.from(hits[0].sealed), sealed)
      assert.equal((await index.searchText(['phoenix', 'budget'], all, 10)).length, 1)
      assert.deepEqual(await index.searchText(['phoenix project'], all, 10), [])
      assert.deepEqual(await index.searchText(['phoenix'], { snapshots: ['s3'] }, 10), [])
      assert.deepEqual(await index.searchText(['phoenix'], { ...all, types: ['pdf'] }, 10), [])
      assert.equal((await index.searchText(['phoenix'], { ...all, types: ['txt'], glob: 'docs/*', minSize: 10, maxSize: 10, mtimeFromMs: 1000, mtimeToMs: 1000 }, 10)).length, 1)
      assert.deepEqual((await index.textCoverage(all)).map(r => [r.user, r.path, r.status, r.reason]), [['bob', 'b.txt', 'unsupported', 'no text extractor for .bin files'], ['alice', 'docs/a.txt', 'indexed', null]])
      const s5 = snap('s5', 'carol', 'n5', 3000)
      await index.commitSnapshot(s5, [file(s5, 'c.txt', 'dd'), file(s5, 'new.txt', 'ee')])
      assert.deepEqual((await index.textCoverage({ snapshots: ['s5'] })).map(r => [r.path, r.status]), [['c.txt', 'indexed'], ['new.txt', null]])
      assert.deepEqual((await index.textCoverage({ snapshots: ['s5'] }, { notIndexedOnly: true })).map(r => [r.path, r.status]), [['new.txt', null]])
      assert.deepEqual((await index.textCoverage(all, { limit: 1 })).map(r => r.path), ['b.txt'])
      assert.deepEqual(await index.textCoverageCounts({ snapshots: ['s2', 's3', 's5'] }), { indexed: 2, unsupported: 1, pending: 1 })
      assert.deepEqual(await index.textCoverageCounts({ snapshots: ['s5'], types: ['pdf'] }), {})
      assert.equal(await index.removeSnapshots(['s2']), 1)
      assert.equal((await index.searchText(['phoenix'], { snapshots: ['s5'] }, 10)).length, 1, 'carol still holds the content')
      assert.equal(await index.removeSnapshots(['s5']), 1)
      assert.deepEqual(await index.textCounts(), { contents: 1, byStatus: { unsupported: 1 } })
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
