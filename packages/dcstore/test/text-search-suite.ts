import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateX25519KeyPair } from '@cachecloud/personal'
import { createDcStore, DiscoveryKeyRequiredError, InvalidTextSearchError, NotInMatterError, STORE_FILES, type DcStore, type VersionIndex } from '../src/index.js'
import { craftSnapshots } from './craft-store.js'
import { docxOf, odfOf, pdfOf, pptxOf, xlsxOf } from './text-fixtures.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const T1 = Date.parse('2026-10-01T00:00:00Z')
const T2 = Date.parse('2026-10-15T00:00:00Z')
const sha = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Text search in a matter over real files of each type, on one index backend; `newIndex` opens the same database each call. */
export function textSearchSuite (name: string, newIndex: () => Promise<() => VersionIndex>): void {
  describe(`text search across custodians: ${name}`, () => {
    let dir: string
    let openIndex: () => VersionIndex
    const discovery = generateX25519KeyPair()
    const memo = docxOf(['Project Phoenix memo', 'Budget for the launch'])
    const alice1 = {
      'plan.pdf': pdfOf(['Project Phoenix plan', 'Confidential']), 'notes/memo.docx': memo, 'q3.xlsx': xlsxOf(['Phoenix revenue', 'Project Phoenix total']),
      'deck.pptx': pptxOf(['Kickoff', 'project phoenix timeline']), 'minutes.odt': odfOf(['Board talked about Project Phoenix']),
      'draft.txt': 'an old draft on project phoenix', 'photo.jpg': Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 1, 2, 3]), 'broken.docx': 'PK\u0003\u0004 not a zip',
      'big.txt': 'project phoenix '.repeat(5000)
    }
    const { 'draft.txt': _draft, ...alice2 } = alice1
    const files = { alice: [{ time: T1, files: alice1 }, { time: T2, files: alice2 }], bob: [{ time: T1 + 1000, files: { 'fwd/memo.docx': memo, 'lunch.txt': 'lunch at noon' } }], carol: [{ time: T1, files: { 'x.txt': 'project phoenix' } }] }

    const withStore = async <T>(fn: (s: DcStore) => Promise<T>): Promise<T> => {
      const store = createDcStore({ path: join(dir, 'store'), auditKey: TEST_AUDIT_KEY, discoveryPrivateKey: discovery.privateKey, operator: 'counsel', index: openIndex() })
      await store.start()
      try { return await fn(store) } finally { await store.stop() }
    }
    const search = async (q: Omit<Parameters<DcStore['discovery']['text']['search']>[0], 'matter'>): ReturnType<DcStore['discovery']['text']['search']> =>
      await withStore(async s => await s.discovery.text.search({ matter: 'P-1', ...q }))

    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'dcstore-text-'))
      await mkdir(join(dir, 'store', STORE_FILES.blocks), { recursive: true })
      openIndex = await newIndex()
      const index = openIndex()
      await index.start()
      await craftSnapshots(join(dir, 'store'), index, discovery.publicKey, files)
      await index.stop()
      await withStore(async s => { await s.discovery.matters.create({ id: 'P-1', name: 'Phoenix', custodians: ['alice', 'bob'] }) })
    })
    after(async () => { await rm(dir, { recursive: true, force: true }) })

    it('before indexing, a search says nothing was indexed and lists every version as pending', async () => {
      assert.deepEqual((await withStore(async s => await s.discovery.text.status())), { contents: 11, processed: 0, pending: 11, byStatus: {} })
      const r = await search({ text: 'phoenix' })
      assert.deepEqual(r.hits, [])
      assert.equal(r.coverage.complete, false)
      assert.equal(r.coverage.indexed, 0)
      assert.equal(r.coverage.byStatus.pending, r.coverage.versions)
    })

    it('indexes every content once (bounded by file size), saying what could not be extracted and why', async () => {
      const events: string[] = []
      const run = await withStore(async s => await s.discovery.text.index({ maxFileBytes: 50_000, onProgress: e => events.push(e.status) }))
      assert.equal(run.processed, 11)
      assert.deepEqual(run.byStatus, { indexed: 8, unsupported: 1, failed: 1, 'too-large': 1 })
      assert.equal(events.length, 11)
      assert.deepEqual((await withStore(async s => await s.discovery.text.status())).pending, 0)
      assert.equal((await withStore(async s => await s.discovery.text.index())).processed, 0)
    })

    it('finds the phrase in each type across the matter\'s custodians, with path, version time, SHA-256 and a snippet; lists what was not indexed', async () => {
      const r = await search({ text: '"project phoenix"' })
      assert.deepEqual(r.custodians, ['alice', 'bob'])
      assert.deepEqual(r.hits.map(h => `${h.user}:${h.path}`).sort(), ['alice:deck.pptx', 'alice:draft.txt', 'alice:minutes.odt', 'alice:notes/memo.docx', 'alice:plan.pdf', 'alice:q3.xlsx', 'bob:fwd/memo.docx'])
      const pdf = r.hits.find(h => h.path === 'plan.pdf')!
      assert.deepEqual([pdf.sha256, pdf.snapshotMs, pdf.size], [sha(alice1['plan.pdf']), T1, alice1['plan.pdf'].byteLength])
      assert.match(pdf.snippet.replace(/[[\]]/g, ''), /Project Phoenix plan/)
      assert.equal(r.coverage.complete, false)
      assert.deepEqual(r.coverage.listed.map(l => [l.user, l.path, l.status]).sort(), [['alice', 'big.txt', 'too-large'], ['alice', 'broken.docx', 'failed'], ['alice', 'photo.jpg', 'unsupported']])
      assert.match(r.coverage.listed.find(l => l.path === 'photo.jpg')!.reason!, /no text extractor for \.jpg files/)
      assert.equal(r.coverage.indexed, r.coverage.versions - 3)
    })

    it('filters: date range, custodian, type, glob, size, modified time; words anywhere vs a phrase', async () => {
      const after = await search({ text: 'phoenix', from: T2, to: T2 + 1000 })
      assert.equal(after.hits.some(h => h.path === 'draft.txt'), false, 'the draft was deleted before T2')
      assert.deepEqual(after.custodians, ['alice', 'bob'])
      assert.deepEqual((await search({ text: 'phoenix', custodians: ['bob'] })).hits.map(h => h.path), ['fwd/memo.docx'])
      assert.deepEqual((await search({ text: 'phoenix', types: ['pdf', 'odt'] })).hits.map(h => h.path).sort(), ['minutes.odt', 'plan.pdf'])
      assert.deepEqual((await search({ text: 'phoenix', glob: 'notes/*' })).hits.map(h => h.path), ['notes/memo.docx'])
      assert.deepEqual((await search({ text: 'phoenix', maxSize: 40 })).hits.map(h => h.path), ['draft.txt'])
      assert.equal((await search({ text: 'phoenix', mtimeFrom: T2 })).hits.length, 0)
      assert.deepEqual((await search({ text: 'budget launch' })).hits.map(h => h.path).sort(), ['fwd/memo.docx', 'notes/memo.docx'])
      assert.deepEqual((await search({ text: '"launch budget"' })).hits, [])
      const narrow = await search({ text: 'phoenix', types: ['pdf'] })
      assert.deepEqual([narrow.coverage.complete, narrow.coverage.versions], [true, 1])
    })

    it('the store\'s files hold no plaintext of the indexed text; searching needs the discovery key', async () => {
      const marker = 'Confidential'
      for (const name of await readdir(join(dir, 'store'), { recursive: true })) {
        const p = join(dir, 'store', name)
        if (!(await stat(p)).isFile() || name.startsWith('blocks')) continue
        const bytes = await readFile(p)
        assert.ok(!bytes.includes(Buffer.from(marker)) && !bytes.includes(Buffer.from(marker.toLowerCase())), `${name} holds a word of the text`)
      }
      const keyless = createDcStore({ path: join(dir, 'store'), auditKey: TEST_AUDIT_KEY, index: openIndex() })
      await keyless.start()
      try { await assert.rejects(keyless.discovery.text.search({ matter: 'P-1', text: 'phoenix' }), DiscoveryKeyRequiredError) } finally { await keyless.stop() }
    })

    it('refuses a custodian outside the matter, and a text with no words; every search is audited in the matter', async () => {
      await assert.rejects(search({ text: 'phoenix', custodians: ['carol'] }), NotInMatterError)
      await assert.rejects(search({ text: '" "' }), InvalidTextSearchError)
      const view = await withStore(async s => await s.discovery.matters.show('P-1'))
      assert.equal(view.trail.filter(e => e.action === 'text-search' && e.kind === 'intent').length, 11) // the refused ones are refused before anything is done
    })
  })
}
