import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { AuditLog } from '../src/index.js'

const WRITER = fileURLToPath(new URL('./audit-writer.js', import.meta.url))

async function writer (dir: string, count: number, who: string): Promise<void> {
  const child = spawn(process.execPath, [WRITER, dir, String(count), who], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const code = await new Promise<number | null>(resolve => child.on('exit', resolve))
  assert.equal(code, 0, err)
}

describe('audit log with several writers', () => {
  let dir: { path: string }
  let log: AuditLog
  beforeEach(async () => {
    dir = { path: await mkdtemp(join(tmpdir(), 'audit-')) }
    log = new AuditLog(join(dir.path, 'audit.jsonl'), join(dir.path, 'audit.head'))
  })
  afterEach(async () => { await rm(dir.path, { recursive: true, force: true }) })

  it('four processes appending at once keep one unbroken chain', async () => {
    await Promise.all(['a', 'b', 'c', 'd'].map(async who => { await writer(dir.path, 25, who) }))
    assert.equal((await log.verify()).entries, 100)
  })

  it('repairs what a writer killed mid-append left: a torn line, an entry without its head', async () => {
    await log.append('op', 'tree', {}, {})
    const entry = (await log.append('op', 'diff', {}, {}))
    // killed after appending, before rewriting the head: the head still names entry 1
    const first = JSON.parse((await readFile(join(dir.path, 'audit.jsonl'), 'utf8')).split('\n')[0]) as { seq: number, hash: string }
    await writeFile(join(dir.path, 'audit.head'), JSON.stringify({ seq: first.seq, hash: first.hash }) + '\n')
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError' })
    // and a later writer killed in the middle of its line
    await appendFile(join(dir.path, 'audit.jsonl'), '{"seq":3,"at":"2026-')
    const next = await log.append('op', 'search', {}, {})
    assert.equal(next.seq, 3)
    assert.equal(next.prev, entry.hash)
    assert.equal((await log.verify()).entries, 3)
  })

  it('takes over a lock left by a dead process', async () => {
    await writeFile(join(dir.path, 'audit.jsonl.lock'), '999999')
    await log.append('op', 'tree', {}, {})
    assert.equal((await log.verify()).entries, 1)
  })
})
