import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createBlockstore } from '@cachecloud/blockstore'
import { generateX25519KeyPair } from '@cachecloud/personal'
import { Crafter } from '@cachecloud/personal/testing'
import { createDcStore, NoSnapshotError, NotInMatterError, STORE_FILES, type DcStore, type RetentionResult, type VersionIndex } from '../src/index.js'
import { withLockFile } from '../src/lock.js'
import { indexRows } from '../src/ingest.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const NODE = '12D3KooWHoldsTestHoldsTestHoldsTestHoldsTest0001'
const T0 = Date.parse('2026-10-01T00:00:00Z')
const DAY = 86_400_000
const sha = (text: string): string => createHash('sha256').update(text).digest('hex')

/**
 * Legal holds against retention, on one index backend: real block stores,
 * snapshots crafted with the package's own encoder and indexed as the
 * replication server indexes them, real exports. `newIndex` opens the same
 * (initially empty) database each time it is called.
 */
export function holdsSuite (name: string, newIndex: () => Promise<() => VersionIndex>): void {
  describe(`legal holds keep what retention would remove: ${name}`, () => {
    let dir: string
    let openIndex: () => VersionIndex
    const discovery = generateX25519KeyPair()
    /** user -> snapshot times -> { path: content } */
    const content: Record<string, Array<{ time: number, files: Record<string, string> }>> = {
      alice: [1, 2, 3].map(i => ({ time: T0 + i * DAY, files: { 'report.txt': `alice report v${i}`, 'notes/plan.md': `plan ${i}` } })),
      bob: [1, 2, 3].map(i => ({ time: T0 + i * DAY, files: { 'mail.txt': `bob mail v${i}` } })),
      carol: [1, 2, 3].map(i => ({ time: T0 + i * DAY, files: i === 1 ? { 'deal.pdf': '%PDF carol deal', 'x.txt': 'x1' } as Record<string, string> : { 'x.txt': `x${i}` } })),
      dave: [1, 2].map(i => ({ time: T0 + i * DAY, files: { 'd.txt': `dave ${i}` } }))
    }

    const withStore = async <T>(fn: (s: DcStore) => Promise<T>): Promise<T> => {
      const store = createDcStore({ path: join(dir, 'store'), auditKey: TEST_AUDIT_KEY, discoveryPrivateKey: discovery.privateKey, operator: 'counsel-jane', index: openIndex() })
      await store.start()
      try { return await fn(store) } finally { await store.stop() }
    }

    /** Exports what `user` had at `at` and returns { path: sha256 } from SHA256SUMS, after `sha256sum -c` of the written files. */
    const exported = async (user: string, at: number, matter = 'M-1'): Promise<Record<string, string>> => {
      const to = join(dir, `export-${user}-${at}-${Math.random().toString(16).slice(2)}`)
      await withStore(async s => await s.discovery.export(user, at, to, { matter }))
      execFileSync('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: to, stdio: 'pipe' })
      const sums = await readFile(join(to, 'SHA256SUMS'), 'utf8')
      return Object.fromEntries(sums.trim().split('\n').map(l => [l.slice(66), l.slice(0, 64)]))
    }
    const expected = (files: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(files).map(([p, c]) => [p, sha(c)]))

    /** Crafts `user`'s snapshots into the store's block directory and indexes them as the replication server does. */
    const commitVersions = async (user: string, versions: Array<{ time: number, files: Record<string, string> }>): Promise<void> => {
      const index = openIndex()
      await index.start()
      const c = new Crafter()
      const blocks = createBlockstore({ path: join(dir, 'store', STORE_FILES.blocks, user), compressionLevel: 0 })
      await blocks.start()
      let parent = null
      for (const v of versions) {
        const top = Object.entries(v.files).filter(([p]) => !p.includes('/')).map(([p, text]) => c.file(p, text))
        const nested = Object.entries(v.files).filter(([p]) => p.includes('/'))
        const dirs = nested.length === 0 ? [] : [c.dir('notes', nested.map(([p, text]) => c.file(p.split('/')[1], text)))]
        const root = c.dirBlock([...top, ...dirs])
        const rec = c.record({
          user,
          node: NODE,
          discoveryPublicKey: discovery.publicKey,
          root,
          time: new Date(v.time).toISOString(),
          parent,
          files: Object.keys(v.files).length
        })
        parent = rec.cid
        await c.storeInto(blocks)
        const rows = await indexRows(c.source, c.keys, rec.cid, rec.record)
        assert.equal(await index.commitSnapshot(rows.snapshot, rows.files), true)
      }
      await blocks.stop()
      await index.stop()
    }

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dcstore-holds-'))
      await mkdir(join(dir, 'store', STORE_FILES.blocks), { recursive: true })
      openIndex = await newIndex()
      for (const [user, versions] of Object.entries(content)) await commitVersions(user, versions)
    })
    after(async () => { await rm(dir, { recursive: true, force: true }) })

    it('places holds in a matter (custodians only), audited with who and why', async () => {
      await withStore(async s => {
        await s.discovery.matters.create({ id: 'M-1', name: 'Phoenix v. Acme', custodians: ['alice', 'bob', 'carol'] })
        await s.discovery.matters.placeHold({ matter: 'M-1', custodian: 'alice', reason: 'complaint served 2026-11-30' })
        // bob as he was between his second and third snapshot
        await s.discovery.matters.placeHold({ matter: 'M-1', custodian: 'bob', from: T0 + 2 * DAY + 1000, to: T0 + 3 * DAY - 1000, reason: 'period of the contract' })
        await s.discovery.matters.placeHold({ matter: 'M-1', custodian: 'carol', glob: '*.pdf', reason: 'signed deal documents' })
        await assert.rejects(s.discovery.matters.placeHold({ matter: 'M-1', custodian: 'dave', reason: 'not a custodian' }), NotInMatterError)
      })
      const audit = (await readFile(join(dir, 'store', STORE_FILES.audit), 'utf8')).trim().split('\n').map(l => JSON.parse(l) as { action: string, kind: string, operator?: string, who: { user: string }, params?: Record<string, unknown> })
      const places = audit.filter(e => e.action === 'hold-place' && e.kind === 'intent')
      assert.equal(places.length, 3) // the refused one is refused before anything is done
      assert.deepEqual(places.map(e => [e.operator, e.params?.custodian, e.params?.reason]), [
        ['counsel-jane', 'alice', 'complaint served 2026-11-30'], ['counsel-jane', 'bob', 'period of the contract'], ['counsel-jane', 'carol', 'signed deal documents']])
    })

    it('a dry run lists what holds keep; applied with a cut-off after every snapshot, it removes only what no hold needs', async () => {
      const cut = Date.now() + 60_000
      const dry = await withStore(async s => await s.retention(cut, false))
      const heldTimes = (r: typeof dry): string[] => r.held.map(h => `${h.snapshot.user}@${(h.snapshot.timeMs - T0) / DAY}`).sort()
      assert.deepEqual(heldTimes(dry), ['alice@1', 'alice@2', 'alice@3', 'bob@2', 'carol@1'])
      assert.deepEqual(dry.snapshots.map(s => `${s.user}@${(s.timeMs - T0) / DAY}`).sort(), ['bob@1', 'bob@3', 'carol@2', 'carol@3', 'dave@1', 'dave@2'])
      assert.ok(dry.held.every(h => h.holds.length === 1 && h.holds[0].startsWith('hold-')))
      const applied = await withStore(async s => await s.retention(cut, true))
      assert.deepEqual(heldTimes(applied), heldTimes(dry))
      assert.equal(applied.snapshots.length, 6)
      assert.ok(applied.removedBlocks > 0)
    })

    it('every held file\'s SHA-256 is still exported at each held time', async () => {
      for (const v of content.alice) assert.deepEqual(await exported('alice', v.time), expected(v.files))
      assert.deepEqual(await exported('bob', T0 + 2 * DAY + 5000), expected(content.bob[1].files))
      assert.deepEqual(await exported('carol', T0 + DAY), expected(content.carol[0].files))
      await assert.rejects(withStore(async s => await s.discovery.treeAt('dave', Date.now(), { matter: 'M-1' })), NotInMatterError)
      assert.equal((await withStore(async s => await s.discovery.treeAt('dave', Date.now()))).snapshots.length, 0)
    })

    it('the matter\'s trail holds its holds and the exports made in it', async () => {
      const view = await withStore(async s => await s.discovery.matters.show('M-1'))
      assert.equal(view.holds.length, 3)
      const intents = view.trail.filter(e => e.kind === 'intent').map(e => e.action)
      assert.deepEqual(intents.slice(0, 4), ['matter-create', 'hold-place', 'hold-place', 'hold-place'])
      assert.equal(intents.filter(a => a === 'export').length, 5)
      assert.equal(view.trail.filter(e => e.kind === 'outcome').length, view.trail.length / 2)
    })

    it('releasing the last hold on a custodian makes the data subject to retention again', async () => {
      const alice = (await withStore(async s => await s.discovery.matters.holds({ custodian: 'alice', active: true })))[0]
      await withStore(async s => await s.discovery.matters.releaseHold(alice.id, 'case settled 2026-12-01'))
      const applied = await withStore(async s => await s.retention(Date.now() + 60_000, true))
      assert.deepEqual(applied.snapshots.map(s => s.user), ['alice', 'alice', 'alice'])
      assert.deepEqual(applied.held.map(h => h.snapshot.user).sort(), ['bob', 'carol'])
      await assert.rejects(exported('alice', T0 + 3 * DAY), NoSnapshotError)
      assert.deepEqual(await exported('bob', T0 + 2 * DAY + 5000), expected(content.bob[1].files))
      await withStore(async s => await s.verifyAudit())
    })

    it('a hold placed while retention decides is kept: retention waits until the hold is in, then keeps what it needs', async () => {
      const erin = [{ time: T0 + DAY, files: { 'e.txt': 'erin 1' } }]
      await commitVersions('erin', erin)
      await withStore(async s => { await s.discovery.matters.create({ id: 'M-2', name: 'Erin', custodians: ['erin'] }) })
      let settled = false
      let retention: Promise<RetentionResult> | undefined
      // a hold being placed holds the holds lock (as placeHold does in another process): a retention started now waits for it
      await withLockFile(join(dir, 'store', STORE_FILES.holdsLock), async () => {
        retention = withStore(async s => await s.retention(Date.now() + 60_000, true))
        retention.then(() => { settled = true }, () => { settled = true })
        await sleep(1_500)
        assert.equal(settled, false, 'retention waited for the hold being placed')
        const index = openIndex()
        await index.start()
        await index.placeHold({
          id: 'hold-race', matter: 'M-2', custodian: 'erin', fromMs: null, toMs: null, glob: null, placedMs: Date.now(), placedBy: 'counsel-jane',
          reason: 'placed while retention ran', releasedMs: null, releasedBy: null, releaseReason: null
        })
        await index.stop()
      })
      const applied = await retention!
      assert.deepEqual(applied.held.filter(h => h.snapshot.user === 'erin').map(h => h.holds), [['hold-race']])
      assert.equal(applied.snapshots.filter(s => s.user === 'erin').length, 0)
      assert.deepEqual(await exported('erin', T0 + DAY, 'M-2'), expected(erin[0].files))
    })
  })
}
