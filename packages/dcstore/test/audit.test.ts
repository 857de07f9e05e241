import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { AuditLog, formatAuditKey, generateAuditKey, parseAuditKey, readAuditKey, writeAuditKey, type AuditEntry } from '../src/index.js'

const WRITER = fileURLToPath(new URL('./audit-writer.js', import.meta.url))

/** Runs the writer child; resolves with its exit code and signal. */
async function writer (dir: string, keyFile: string, count: number, who: string, mode = ''): Promise<{ code: number | null, signal: string | null, err: string }> {
  const child = spawn(process.execPath, [WRITER, dir, String(count), who, keyFile, mode], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  return await new Promise(resolve => child.on('exit', (code, signal) => { resolve({ code, signal, err }) }))
}

describe('audit log: signed entries, intent and outcome, several writers', () => {
  let dir: string
  let keyFile: string
  const key = generateAuditKey()
  let log: AuditLog
  const logPath = (): string => join(dir, 'audit.jsonl')
  const headPath = (): string => join(dir, 'audit.head')
  const lines = async (): Promise<string[]> => (await readFile(logPath(), 'utf8')).split('\n').filter(l => l !== '')
  const entries = async (): Promise<AuditEntry[]> => (await lines()).map(l => JSON.parse(l) as AuditEntry)
  const writeLines = async (ls: string[]): Promise<void> => { await writeFile(logPath(), ls.map(l => l + '\n').join('')) }
  const query = async (i: number): Promise<number> => await log.run('search', { i }, async () => i, hits => ({ hits }))

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'audit-'))
    keyFile = join(dir, 'audit.key')
    await writeFile(keyFile, formatAuditKey(key))
    log = new AuditLog(logPath(), headPath(), { key, operator: 'officer' })
  })
  afterEach(async () => { await rm(dir, { recursive: true, force: true }) })

  it('writes an intent before acting and its outcome after, signed, with the OS user of the process', async () => {
    let seenDuringAct: AuditEntry[] = []
    await log.run('export', { user: 'alice' }, async () => { seenDuringAct = await entries() }, () => ({ files: 3 }))
    await assert.rejects(log.run('diff', { user: 'bob' }, async () => { throw Object.assign(new Error('no snapshots for user bob'), { code: 'ERR_NO_SNAPSHOT' }) }, () => ({})), /no snapshots/)
    assert.deepEqual(seenDuringAct.map(e => [e.kind, e.action]), [['intent', 'export']])
    const all = await entries()
    assert.deepEqual(all.map(e => [e.seq, e.kind, e.action, e.intent, e.ok]), [[1, 'intent', 'export', undefined, undefined], [2, 'outcome', 'export', 1, true], [3, 'intent', 'diff', undefined, undefined], [4, 'outcome', 'diff', 3, false]])
    assert.deepEqual(all[3].result, { error: 'ERR_NO_SNAPSHOT', message: 'no snapshots for user bob' })
    assert.equal(all[0].who.user, userInfo().username)
    assert.equal(all[0].who.uid, process.getuid!())
    assert.equal(all[0].who.pid, process.pid)
    assert.equal(all[0].operator, 'officer')
    assert.equal(all[0].key, key.id)
    const r = await log.verify()
    assert.equal(r.entries, 4)
    assert.deepEqual(r.open, [])
  })

  it('four processes appending at once keep one unbroken signed chain', async () => {
    const runs = await Promise.all(['a', 'b', 'c', 'd'].map(async who => await writer(dir, keyFile, 25, who)))
    for (const r of runs) assert.equal(r.code, 0, r.err)
    const report = await log.verify()
    assert.equal(report.entries, 200)
    assert.deepEqual(report.open, [])
  })

  it('a crash between intent and act leaves the intent, shown as open; the chain stays intact and continues', async () => {
    const r = await writer(dir, keyFile, 0, 'officer', 'crash')
    assert.equal(r.signal, 'SIGKILL', r.err)
    const report = await log.verify()
    assert.equal(report.entries, 1)
    assert.deepEqual(report.open.map(e => [e.seq, e.action, e.params]), [[1, 'export', { user: 'alice', to: '/case/1' }]])
    await query(1)
    const after = await log.verify()
    assert.equal(after.entries, 3)
    assert.deepEqual(after.open.map(e => e.seq), [1])
  })

  it('detects an edited entry', async () => {
    for (let i = 0; i < 3; i++) await query(i)
    const ls = await lines()
    ls[2] = ls[2].replace('"i":1', '"i":7')
    await writeLines(ls)
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError', message: /audit entry 3 was edited/ })
  })

  it('detects reordered entries', async () => {
    for (let i = 0; i < 3; i++) await query(i)
    const ls = await lines();
    [ls[2], ls[4]] = [ls[4], ls[2]]
    await writeLines(ls)
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError', message: /entry 3 has sequence number 5/ })
  })

  it('detects the last entry removed, also with the head rewritten to match (not signed by the key)', async () => {
    for (let i = 0; i < 2; i++) await query(i)
    const ls = await lines()
    await writeLines(ls.slice(0, -1))
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError', message: /ends at entry 3 but its head says 4/ })
    const last = JSON.parse(ls[2]) as AuditEntry
    await writeFile(headPath(), JSON.stringify({ seq: 3, hash: last.hash, sig: JSON.parse(await readFile(headPath(), 'utf8')).sig }) + '\n')
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError', message: /head is not signed by the audit key/ })
    // and nothing is appended to a log so damaged
    await assert.rejects(query(9), { name: 'AuditChainBrokenError' })
  })

  it('detects a forgery that recomputes the whole chain and head without the key', async () => {
    for (let i = 0; i < 3; i++) await query(i)
    const forger = generateAuditKey()
    const forge = async (claimKey: string): Promise<void> => {
      let prev = '0'.repeat(64)
      const out: string[] = []
      for (const line of await lines()) {
        const e = JSON.parse(line) as Record<string, unknown>
        if (e.seq === 1) e.params = { i: 'forged' }
        e.prev = prev
        e.key = claimKey
        const { hash: _h, sig: _s, ...body } = e
        e.hash = createHash('sha256').update(JSON.stringify(body)).digest('hex')
        const { signText } = await import('../src/audit-key.js')
        e.sig = signText(forger, 'cachecloud-audit-entry/2\n' + (e.hash as string))
        out.push(JSON.stringify(e))
        prev = e.hash as string
      }
      await writeLines(out)
      const { signText } = await import('../src/audit-key.js')
      await writeFile(headPath(), JSON.stringify({ seq: out.length, hash: prev, sig: signText(forger, `cachecloud-audit-head/2\n${out.length}\n${prev}`) }) + '\n')
    }
    // the forger's own key named in the entries
    await forge(forger.id)
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError', message: /entry 1 names another key/ })
    // the real key's name, the forger's signature
    await forge(key.id)
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError', message: /entry 1 is not signed by the audit key/ })
    // the forger's own verification passes: only the trusted key tells
    await forge(forger.id)
    assert.equal((await new AuditLog(logPath(), headPath(), { key: forger }).verify()).entries, 6)
  })

  it('an anchored head (kept outside the machine) detects a rollback to an older, consistently signed state', async () => {
    await query(0)
    const oldLog = await readFile(logPath())
    const oldHead = await readFile(headPath())
    await query(1)
    const anchor = (await log.verify()).head
    assert.equal(anchor.seq, 4)
    // whoever can write the data directory puts back an earlier copy of log and head
    await writeFile(logPath(), oldLog)
    await writeFile(headPath(), oldHead)
    assert.equal((await log.verify()).entries, 2) // consistent on its own
    await assert.rejects(log.verify({ anchor }), { name: 'AuditChainBrokenError', message: /ends at entry 2 but entry 4 was anchored/ })
  })

  it('appending needs the private key; verifying needs only the public key', async () => {
    await query(0)
    const publicOnly = parseAuditKey(formatAuditKey(key, { publicOnly: true }))
    assert.equal(publicOnly.privateKey, undefined)
    const verifier = new AuditLog(logPath(), headPath(), { key: publicOnly })
    assert.equal((await verifier.verify()).entries, 2)
    await assert.rejects(verifier.run('search', {}, async () => 1, () => ({})), { name: 'AuditKeyRequiredError' })
    await assert.rejects(new AuditLog(logPath(), headPath()).run('search', {}, async () => 1, () => ({})), { name: 'AuditKeyRequiredError' })
    await assert.rejects(new AuditLog(logPath(), headPath()).verify(), { name: 'AuditKeyRequiredError' })
    assert.equal((await lines()).length, 2) // nothing acted on or written without the key
  })

  it('another key than the log was started with is refused with the reason, nothing appended', async () => {
    await query(0)
    const other = new AuditLog(logPath(), headPath(), { key: generateAuditKey() })
    await assert.rejects(other.run('search', {}, async () => 1, () => ({})), { name: 'InvalidAuditKeyError', message: new RegExp(`^this audit log is signed by ${key.id}, not by the given audit key`) })
    await assert.rejects(other.verify(), { name: 'AuditChainBrokenError', message: /entry 1 names another key/ })
    assert.equal((await log.verify()).entries, 2)
  })

  it('a format-1 log (unsigned, from before) is named as such, to be archived; nothing appended', async () => {
    await writeFile(logPath(), JSON.stringify({ seq: 1, at: '2026-11-01T00:00:00Z', who: 'op', action: 'tree', params: {}, result: {}, prev: '0'.repeat(64), hash: 'ab'.repeat(32) }) + '\n')
    await writeFile(headPath(), JSON.stringify({ seq: 1, hash: 'ab'.repeat(32) }) + '\n')
    await assert.rejects(query(0), { name: 'AuditChainBrokenError', message: /is not a signed entry \(format 1; this log needs format 2: archive an older log/ })
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError', message: /audit entry 1 is not a signed entry \(format 1/ })
    assert.equal((await lines()).length, 1)
  })

  it('refuses a key file inside the data directory, and a file that is not a key', async () => {
    const data = join(dir, 'data')
    await mkdir(data)
    await assert.rejects(writeAuditKey(join(data, 'audit.key'), data), { name: 'InvalidAuditKeyError', message: /inside the data directory/ })
    await writeFile(join(data, 'audit.key'), formatAuditKey(key))
    await assert.rejects(readAuditKey(join(data, 'audit.key'), data), { name: 'InvalidAuditKeyError', message: /inside the data directory/ })
    await assert.rejects(readAuditKey(join(dir, 'missing.key'), data), { name: 'InvalidAuditKeyError', message: /does not exist/ })
    await writeFile(join(dir, 'bad.key'), '{"format":"cachecloud/audit-key/1","publicKey":"ed25519:nope"}')
    await assert.rejects(readAuditKey(join(dir, 'bad.key'), data), { name: 'InvalidAuditKeyError' })
    assert.equal((await readAuditKey(keyFile, data)).id, key.id)
  })

  it('repairs what a writer killed mid-append left: a torn line, an entry without its head', async () => {
    await query(0)
    const headAfter2 = await readFile(headPath())
    await query(1)
    // killed after appending entry 3, before rewriting the head (which still names entry 2)
    await writeLines((await lines()).slice(0, 3))
    await writeFile(headPath(), headAfter2)
    await assert.rejects(log.verify(), { name: 'AuditChainBrokenError', message: /ends at entry 3 but its head says 2/ })
    // entry 3 is signed and chains from the head: the next writer moves the head forward
    await query(2)
    assert.equal((await log.verify()).entries, 5)
    // a later writer killed in the middle of its line (never acknowledged): cut off
    await appendFile(logPath(), '{"v":2,"seq":6,"at":"2026-')
    await query(3)
    const report = await log.verify()
    assert.equal(report.entries, 7)
    assert.deepEqual(report.open.map(e => e.seq), [3])
  })

  it('takes over a lock left by a dead process, or left empty by a crash', async () => {
    await writeFile(join(dir, 'audit.jsonl.lock'), '999999')
    await query(0)
    await writeFile(join(dir, 'audit.jsonl.lock'), '')
    await query(1)
    assert.equal((await log.verify()).entries, 4)
  })
})
