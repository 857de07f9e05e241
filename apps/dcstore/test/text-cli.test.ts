import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createSqliteIndex, parseDat, STORE_FILES } from '@cachecloud/dcstore'
import { craftSnapshots } from '@cachecloud/dcstore/testing/craft'
import { docxOf, pdfOf } from '@cachecloud/dcstore/testing/text-fixtures'
import { formatX25519Key, generateX25519KeyPair } from '@cachecloud/personal'
import { dcstore } from './cli.js'

describe('dcstore index and discover search --text (real CLI)', () => {
  let dir: string
  let data: string
  let env: Record<string, string>
  const run = async (...args: string[]): ReturnType<typeof dcstore> => await dcstore(['--data', data, ...args], env)
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-text-cli-'))
    data = join(dir, 'store')
    await mkdir(join(data, STORE_FILES.blocks), { recursive: true })
    const discovery = generateX25519KeyPair()
    const index = createSqliteIndex(join(data, STORE_FILES.index))
    await index.start()
    await craftSnapshots(data, index, discovery.publicKey, {
      alice: [{ time: Date.parse('2026-10-01T00:00:00Z'), files: { 'plan.pdf': pdfOf(['Project Phoenix plan']), 'memo.docx': docxOf(['phoenix memo']), 'photo.jpg': Buffer.from([0xff, 0xd8, 0, 1]) } }]
    })
    await index.stop()
    await writeFile(join(dir, 'discovery.key'), JSON.stringify({ privateKey: formatX25519Key(discovery.privateKey) }))
    assert.equal((await dcstore(['--data', data, 'audit', 'keygen', '--out', join(dir, 'audit.key')])).code, 0)
    env = { DCSTORE_AUDIT_KEY: join(dir, 'audit.key') }
    assert.equal((await run('matter', 'create', 'P-9', '--name', 'Phoenix', '--custodian', 'alice')).code, 0)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('index status, index run, then a search that lists its hits and what was not indexed', async () => {
    assert.equal((await run('index', 'status')).stdout, '0 of 3 contents processed, 3 pending\n')
    const idx = await run('--discovery-key', join(dir, 'discovery.key'), 'index', 'run')
    assert.equal(idx.code, 0, idx.stderr)
    assert.match(idx.stdout, /^indexed 3 contents in [\d.]+ s \([\d.]+ MB of text from [\d.]+ MB of files\)\n {2}indexed: 2\n {2}unsupported: 1\n$/)
    assert.match((await run('index', 'status')).stdout, /^3 of 3 contents processed, 0 pending\n/)
    const r = await run('--discovery-key', join(dir, 'discovery.key'), 'discover', 'search', '--matter', 'P-9', '--text', '"project phoenix"')
    assert.equal(r.code, 0, r.stderr)
    const lines = r.stdout.trim().split('\n')
    assert.match(lines[0], /^alice {2}plan\.pdf {2}2026-10-01T00:00:00\.000Z {2}[0-9a-f]{64} {2}\[Project Phoenix\] plan$/)
    assert.equal(lines[1], '# 1 hits in 1 snapshots of alice; 2 of 3 file versions in scope indexed; 1 not (unsupported 1):')
    assert.match(lines[2], /^# {3}unsupported {2}alice {2}photo\.jpg {2}\S+ {2}[0-9a-f]{64} {2}no text extractor for \.jpg files$/)
    const typed = await run('--discovery-key', join(dir, 'discovery.key'), 'discover', 'search', '--matter', 'P-9', '--text', 'phoenix', '--type', 'docx')
    assert.match(typed.stdout, /^alice {2}memo\.docx .*\n# 1 hits in 1 snapshots of alice; 1 of 1 file versions in scope indexed: the search covered all of them\n$/)
    const all = await run('--discovery-key', join(dir, 'discovery.key'), 'discover', 'export', '--matter', 'P-9', '--to', join(dir, 'review-all'))
    assert.equal(all.code, 0, all.stderr)
    assert.match(all.stdout, /^exported 3 documents \(3 file versions of alice\) of matter P-9 to \S+\n {2}load file LOADFILE\.dat, chain of custody CUSTODY\.txt \(sha256 [0-9a-f]{64}\)\n$/)
    const hits = await run('--discovery-key', join(dir, 'discovery.key'), 'discover', 'export', '--matter', 'P-9', '--text', 'phoenix', '--type', 'pdf', '--tar', join(dir, 'review.tar'))
    assert.equal(hits.code, 0, hits.stderr)
    const dat = parseDat(execFileSync('tar', ['-xOf', join(dir, 'review.tar'), './LOADFILE.dat']).toString('utf8'))
    assert.deepEqual(dat.records.map(r => [r.CUSTODIAN, r.ORIGINAL_PATH, r.NATIVE_PATH]), [['alice', 'plan.pdf', 'NATIVES/P90000001.pdf']])
    const noMatter = await run('discover', 'search', '--text', 'phoenix')
    assert.deepEqual([noMatter.code, noMatter.stderr], [2, 'dcstore: a text search runs in a matter: give --matter ID\n'])
  })
})
