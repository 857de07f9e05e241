import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateX25519KeyPair } from '@cachecloud/personal'
import { createDcStore, createSqliteIndex, DAT_FIELDS, parseDat, STORE_FILES, type DcStore } from '../src/index.js'
import { craftSnapshots, CRAFT_NODE } from './craft-store.js'
import { docxOf, pdfOf } from './text-fixtures.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const T1 = Date.parse('2026-10-01T00:00:00Z')
const sha = (b: string | Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('review-ready export of a matter (natives, DAT load file, custody report)', () => {
  let dir: string
  const discovery = generateX25519KeyPair()
  const memo = docxOf(['Project Phoenix memo'])
  const plan = pdfOf(['Project Phoenix plan'])
  const odd = 'odd\nname.txt'
  let snaps: Record<string, string[]>
  const withStore = async <T>(fn: (s: DcStore) => Promise<T>): Promise<T> => {
    const store = createDcStore({ path: join(dir, 'store'), auditKey: TEST_AUDIT_KEY, discoveryPrivateKey: discovery.privateKey, operator: 'paralegal-kim' })
    await store.start()
    try { return await fn(store) } finally { await store.stop() }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-review-'))
    await mkdir(join(dir, 'store', STORE_FILES.blocks), { recursive: true })
    const index = createSqliteIndex(join(dir, 'store', STORE_FILES.index))
    await index.start()
    snaps = await craftSnapshots(join(dir, 'store'), index, discovery.publicKey, {
      alice: [{ time: T1, files: { 'docs/memo.docx': memo, 'plan.pdf': plan, [odd]: 'lunch' } }],
      bob: [{ time: T1 + 1000, files: { 'inbox/fwd-memo.docx': memo, 'b.txt': 'bob only' } }]
    })
    await index.stop()
    await withStore(async s => {
      await s.discovery.matters.create({ id: 'M-12', name: 'Phoenix v. Acme', custodians: ['alice', 'bob'] })
      await s.discovery.text.index()
    })
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('custodians at a time: each content once, every custodian and path recorded; the DAT read back field by field', async () => {
    const to = join(dir, 'review-1')
    const m = await withStore(async s => await s.discovery.review.export({ matter: 'M-12', to, at: T1 + 5000 }))
    execFileSync('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: to, stdio: 'pipe' })
    const text = await readFile(join(to, 'LOADFILE.dat'), 'utf8')
    assert.ok(text.startsWith('\ufeff\u00feDOCID\u00fe\u0014\u00feBEGATTACH\u00fe'))
    const dat = parseDat(text)
    assert.deepEqual(dat.fields, [...DAT_FIELDS])
    assert.equal(dat.records.length, 4, 'five file versions, four contents')
    const byPath = Object.fromEntries(dat.records.map(r => [r.ORIGINAL_PATH, r]))
    const memoDoc = byPath['docs/memo.docx']
    assert.deepEqual(memoDoc, {
      DOCID: memoDoc.DOCID, BEGATTACH: memoDoc.DOCID, ENDATTACH: memoDoc.DOCID, PARENT_DOCID: '', ATTACH_DOCIDS: '', CUSTODIAN: 'alice', ALL_CUSTODIANS: 'alice; bob',
      FILENAME: 'memo.docx', FILE_EXTENSION: 'docx', ORIGINAL_PATH: 'docs/memo.docx', ALL_PATHS: 'alice:docs/memo.docx; bob:inbox/fwd-memo.docx', FILE_SIZE: String(memo.byteLength),
      SHA256: sha(memo), DATE_MODIFIED: new Date(T1 - 60_000).toISOString(), SNAPSHOT_TIME: new Date(T1).toISOString(), SNAPSHOT: snaps.alice[0],
      NODE: CRAFT_NODE,
      NATIVE_PATH: `NATIVES/${memoDoc.DOCID}.docx`, TEXT_STATUS: 'indexed'
    })
    assert.match(memoDoc.DOCID, /^M12\d{7}$/)
    assert.deepEqual(dat.records.map(r => r.DOCID), ['M120000001', 'M120000002', 'M120000003', 'M120000004'])
    assert.deepEqual([byPath['b.txt'].CUSTODIAN, byPath['b.txt'].ALL_CUSTODIANS, byPath['b.txt'].SNAPSHOT], ['bob', 'bob', snaps.bob[0]])
    assert.equal(byPath['odd\u00aename.txt'].SHA256, sha('lunch'), 'a newline in a value is ® in the DAT')
    for (const r of dat.records) assert.equal(sha(await readFile(join(to, r.NATIVE_PATH))), r.SHA256, r.NATIVE_PATH)
    assert.equal(m.documents.find(d => d.sha256 === sha(memo))!.versions.length, 2)
    const custody = await readFile(join(to, 'CUSTODY.txt'), 'utf8')
    assert.match(custody, /^Exported by: {3}paralegal-kim \(OS user /m)
    assert.match(custody, new RegExp(`^ {2}alice {2}${CRAFT_NODE} {2}${snaps.alice[0]} {2}2026-10-01T00:00:00.000Z`, 'm'))
    assert.match(custody, new RegExp(`^ {2}${sha(memo)} +${memo.byteLength} {2}NATIVES/M120000001.docx$`, 'm'))
    const audit = (await readFile(join(dir, 'store', STORE_FILES.audit), 'utf8')).trim().split('\n').map(l => JSON.parse(l) as { action: string, kind: string, result?: { custody?: string, documents?: number }, params?: { matter?: string } })
    const outcome = audit.filter(e => e.action === 'review-export' && e.kind === 'outcome').at(-1)!
    assert.deepEqual([outcome.result?.documents, outcome.result?.custody], [4, sha(custody)])
  })

  it('the hits of a text search, for some custodians; refuses a folder that is not empty', async () => {
    const to = join(dir, 'review-2')
    await withStore(async s => await s.discovery.review.export({ matter: 'M-12', to, custodians: ['bob'], search: { text: '"project phoenix"' } }))
    const dat = parseDat(await readFile(join(to, 'LOADFILE.dat'), 'utf8'))
    assert.deepEqual(dat.records.map(r => [r.CUSTODIAN, r.ORIGINAL_PATH, r.SHA256]), [['bob', 'inbox/fwd-memo.docx', sha(memo)]])
    await assert.rejects(withStore(async s => await s.discovery.review.export({ matter: 'M-12', to })), { code: 'ERR_EXPORT_TARGET_NOT_EMPTY' })
    const manifest = JSON.parse(await readFile(join(to, 'MANIFEST.json'), 'utf8')) as { format: string, selection: { custodians: string[], search: { text: string } } }
    assert.deepEqual([manifest.format, manifest.selection.custodians, manifest.selection.search.text], ['cachecloud/review-export/1', ['bob'], '"project phoenix"'])
  })
})
