/**
 * The data-center store's text index (issue 16): index rate (MB/s of text
 * extracted and indexed) and search latency (p50/p95 of `discover search
 * --text` in a matter over every custodian, coverage included) on SQLite
 * FTS5 and PostgreSQL full-text search, over `--files` files (default
 * 20,000) across 10 custodians: mostly plain text of a 5,000-word vocabulary
 * (Zipf-like), 2% docx and 1% PDF, 1% holding "project phoenix".
 *
 * Run: node bench/dist/src/discovery-search.js [--files N] [--backends sqlite,postgresql] [--searches N]
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import pg from 'pg'
import { createDcStore, createPgIndex, createSqliteIndex, generateAuditKey, STORE_FILES, type VersionIndex } from '@cachecloud/dcstore'
import { craftSnapshots } from '@cachecloud/dcstore/testing/craft'
import { findPostgresBin, startPrivateCluster, type PrivateCluster } from '@cachecloud/dcstore/testing/postgres'
import { docxOf, pdfOf } from '@cachecloud/dcstore/testing/text-fixtures'
import { generateX25519KeyPair } from '@cachecloud/personal'

const { values } = parseArgs({ options: { files: { type: 'string', default: '20000' }, backends: { type: 'string', default: 'sqlite,postgresql' }, searches: { type: 'string', default: '50' } } })
const FILES = Number(values.files)
const SEARCHES = Number(values.searches)
const CUSTODIANS = 10

/** A deterministic pseudo-random generator (the same corpus every run). */
function rng (seed: number): () => number {
  let s = seed >>> 0
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32 }
}
const rand = rng(16)
const syllables = ['ka', 'lo', 'mi', 'ra', 'te', 'vo', 'si', 'nu', 'pe', 'da', 'gor', 'lin', 'mar', 'tus', 'ven', 'qua']
const vocabulary = Array.from({ length: 5000 }, (_v, i) => { let w = ''; let n = i + 7; do { w += syllables[n % 16]; n = Math.floor(n / 16) } while (n > 0); return w })
/** Zipf-like: word i with weight 1/(i+1). */
const word = (): string => vocabulary[Math.min(vocabulary.length - 1, Math.floor(Math.exp(rand() * Math.log(vocabulary.length)) - 1))]
const sentence = (n: number): string => Array.from({ length: n }, word).join(' ')

function corpus (): Record<string, Array<{ time: number, files: Record<string, string | Uint8Array> }>> {
  const users: Record<string, Array<{ time: number, files: Record<string, string | Uint8Array> }>> = {}
  let textBytes = 0
  for (let c = 0; c < CUSTODIANS; c++) {
    const files: Record<string, string | Uint8Array> = {}
    for (let i = 0; i < FILES / CUSTODIANS; i++) {
      const lines = Array.from({ length: 5 + Math.floor(rand() * 40) }, () => sentence(6 + Math.floor(rand() * 10)))
      if (rand() < 0.01) lines.splice(Math.floor(rand() * lines.length), 0, 'notes on project phoenix')
      const dir = `folder${String(Math.floor(i / 100)).padStart(3, '0')}`
      const r = rand()
      if (r < 0.01) files[`${dir}/report-${i}.pdf`] = pdfOf(lines.slice(0, 40))
      else if (r < 0.03) files[`${dir}/memo-${i}.docx`] = docxOf(lines)
      else files[`${dir}/note-${i}.txt`] = lines.join('\n')
      textBytes += lines.join('\n').length
    }
    users[`custodian${c}`] = [{ time: Date.parse('2026-11-01T00:00:00Z') + c * 1000, files }]
  }
  process.stderr.write(`corpus: ${FILES} files, about ${(textBytes / 1e6).toFixed(1)} MB of text\n`)
  return users
}

const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p / 100 * s.length))] }

interface Row {
  backend: string,
  files: number,
  contents: number,
  textMB: number,
  indexSeconds: number,
  indexMBps: number,
  searchP50ms: number,
  searchP95ms: number,
  medianHits: number,
  versionsInScope: number
}

async function bench (backend: string, openIndex: () => VersionIndex, users: ReturnType<typeof corpus>): Promise<Row> {
  const dir = await mkdtemp(join(tmpdir(), `bench-text-${backend}-`))
  try {
    await mkdir(join(dir, 'store', STORE_FILES.blocks), { recursive: true })
    const discovery = generateX25519KeyPair()
    const index = openIndex()
    await index.start()
    const t0 = performance.now()
    await craftSnapshots(join(dir, 'store'), index, discovery.publicKey, users)
    await index.stop()
    process.stderr.write(`${backend}: ${FILES} files sealed, stored and indexed by path in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`)
    const store = createDcStore({ path: join(dir, 'store'), auditKey: generateAuditKey(), discoveryPrivateKey: discovery.privateKey, index: openIndex() })
    await store.start()
    try {
      const run = await store.discovery.textIndexer.run()
      process.stderr.write(`${backend}: text indexed in ${run.seconds.toFixed(1)} s\n`)
      await store.discovery.matters.create({ id: 'BENCH', name: 'bench', custodians: Object.keys(users) })
      const queries = ['"project phoenix"', ...Array.from({ length: SEARCHES - 1 }, (_v, i) => i % 3 === 0 ? `"${word()} ${word()}"` : i % 3 === 1 ? word() : `${word()} ${word()}`)]
      const times: number[] = []
      const hits: number[] = []
      let versions = 0
      for (const text of queries) {
        const t0 = performance.now()
        const r = await store.discovery.text.search({ matter: 'BENCH', text, limit: 100 })
        times.push(performance.now() - t0)
        hits.push(r.hits.length)
        versions = r.coverage.versions
      }
      return {
        backend, files: FILES, contents: run.processed, textMB: run.textBytes / 1e6, indexSeconds: run.seconds, indexMBps: run.textBytes / 1e6 / run.seconds,
        searchP50ms: pct(times, 50), searchP95ms: pct(times, 95), medianHits: pct(hits, 50), versionsInScope: versions
      }
    } finally { await store.stop() }
  } finally { await rm(dir, { recursive: true, force: true }) }
}

const users = corpus()
const rows: Row[] = []
for (const backend of String(values.backends).split(',')) {
  if (backend === 'sqlite') {
    const path = join(await mkdtemp(join(tmpdir(), 'bench-sqlite-')), 'index.sqlite')
    rows.push(await bench('sqlite', () => createSqliteIndex(path), users))
    await rm(join(path, '..'), { recursive: true, force: true })
  } else if (backend === 'postgresql') {
    const bin = await findPostgresBin()
    if (bin === undefined) { process.stderr.write('postgresql: not installed (apt-get install postgresql), skipped\n'); continue }
    let cluster: PrivateCluster | undefined
    try {
      cluster = await startPrivateCluster(bin)
      const admin = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' })
      await admin.connect(); await admin.query('CREATE DATABASE bench'); await admin.end()
      const port = cluster.port
      rows.push(await bench('postgresql', () => createPgIndex({ host: '127.0.0.1', port, user: 'postgres', database: 'bench' }), users))
    } finally { await cluster?.stop() }
  } else throw new Error(`unknown backend ${backend}`)
}
for (const r of rows) {
  process.stdout.write(`${r.backend.padEnd(10)} ${r.files} files (${r.contents} contents, ${r.textMB.toFixed(1)} MB of text): indexed in ${r.indexSeconds.toFixed(1)} s = ${r.indexMBps.toFixed(2)} MB/s of text; ` +
    `search p50 ${r.searchP50ms.toFixed(1)} ms, p95 ${r.searchP95ms.toFixed(1)} ms (${SEARCHES} searches over ${r.versionsInScope} versions, median ${r.medianHits} hits, at most 100 shown)\n`)
}
process.stdout.write(JSON.stringify(rows) + '\n')
