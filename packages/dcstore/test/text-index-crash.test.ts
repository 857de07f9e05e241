import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { generateX25519KeyPair } from '@cachecloud/personal'
import { createDcStore, createSqliteIndex, STORE_FILES } from '../src/index.js'
import { craftSnapshots } from './craft-store.js'
import { docxOf, pdfOf } from './text-fixtures.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const CHILD = fileURLToPath(new URL('./text-index-child.js', import.meta.url))
const FILES = 400 // over three batches (TEXT_BATCH): killed after the first is durable

describe('text indexing killed with SIGKILL goes on where it stopped', () => {
  let dir: string
  const discovery = generateX25519KeyPair()
  const store = (): ReturnType<typeof createDcStore> => createDcStore({ path: join(dir, 'store'), auditKey: TEST_AUDIT_KEY, discoveryPrivateKey: discovery.privateKey, create: false })

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-text-crash-'))
    await mkdir(join(dir, 'store', STORE_FILES.blocks), { recursive: true })
    const files: Record<string, string | Uint8Array> = {}
    for (let i = 0; i < FILES; i++) {
      if (i % 10 === 0) files[`doc${i}.pdf`] = pdfOf([`exhibit ${i} project phoenix`])
      else if (i % 10 === 1) files[`doc${i}.docx`] = docxOf([`exhibit ${i} project phoenix`])
      else files[`doc${i}.txt`] = `exhibit ${i} project phoenix`
    }
    const index = createSqliteIndex(join(dir, 'store', STORE_FILES.index))
    await index.start()
    await craftSnapshots(join(dir, 'store'), index, discovery.publicKey, { alice: [{ time: Date.parse('2026-10-01T00:00:00Z'), files }] })
    await index.stop()
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('killed mid-run: what it wrote stays, a second run indexes only the rest, and every content ends indexed once', async () => {
    const child = spawn(process.execPath, [CHILD, join(dir, 'store'), Buffer.from(discovery.privateKey).toString('hex')], { stdio: ['ignore', 'pipe', 'inherit'] })
    let lines = 0
    let out = ''
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        lines = out.split('\n').length - 1
        if (lines >= 1) { child.kill('SIGKILL'); resolve() }
      })
      child.on('exit', () => { resolve() })
      child.on('error', reject)
    })
    await new Promise(resolve => child.exitCode !== null || child.signalCode !== null ? resolve(undefined) : child.once('exit', resolve))
    assert.equal(child.signalCode, 'SIGKILL', `the child ended before it was killed: ${out.slice(-200)}`)
    assert.ok(!out.includes('finished'))

    const s = store()
    await s.start()
    try {
      const mid = await s.discovery.text.status()
      assert.ok(mid.processed >= lines && mid.processed < FILES, `processed ${mid.processed} of ${FILES} after ${lines} lines`)
      const rest = await s.discovery.textIndexer.run()
      assert.equal(rest.processed, FILES - mid.processed)
      assert.deepEqual(await s.discovery.text.status(), { contents: FILES, processed: FILES, pending: 0, byStatus: { indexed: FILES } })
      await s.discovery.matters.create({ id: 'K-1', name: 'kill', custodians: ['alice'] })
      const r = await s.discovery.text.search({ matter: 'K-1', text: '"project phoenix"' })
      assert.equal(r.hits.length, FILES)
      assert.equal(r.coverage.complete, true)
      assert.deepEqual((await s.discovery.text.search({ matter: 'K-1', text: '"exhibit 1 project"' })).hits.map(h => h.path), ['doc1.docx'])
    } finally { await s.stop() }
  })

  it('a file over the time limit is listed as timed out; the next file gets a new worker', async () => {
    const s = store()
    await s.start()
    try {
      const index = createSqliteIndex(join(dir, 'store', STORE_FILES.index))
      await index.start()
      await craftSnapshots(join(dir, 'store'), index, discovery.publicKey, { bob: [{ time: Date.parse('2026-10-02T00:00:00Z'), files: { 'slow.pdf': pdfOf(['slow']) } }] })
      await index.stop()
      const run = await s.discovery.textIndexer.run({ timeoutMs: 1 })
      assert.deepEqual(run.byStatus, { timeout: 1 })
      await s.discovery.matters.create({ id: 'K-2', name: 'slow', custodians: ['bob'] })
      const r = await s.discovery.text.search({ matter: 'K-2', text: 'slow' })
      assert.deepEqual(r.coverage.listed.map(l => [l.path, l.status, l.reason]), [['slow.pdf', 'timeout', 'text extraction took longer than 1 ms']])
    } finally { await s.stop() }
  })
})
