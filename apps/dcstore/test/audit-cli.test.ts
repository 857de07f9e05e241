import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { dcstore } from './cli.js'

const PEER = '12D3KooWAuditTestAuditTestAuditTestAuditTest12345'
const EXIT = { usage: 2, integrity: 6 }

describe('dcstore audit: signing key, verify, anchor (real CLI)', () => {
  let dir: string
  let data: string
  let key: string
  const logPath = (): string => join(data, 'audit.jsonl')
  const withKey = (...args: string[]): Promise<Awaited<ReturnType<typeof dcstore>>> => dcstore(['--data', data, '--audit-key', key, ...args])

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-audit-cli-'))
    data = join(dir, 'store')
    key = join(dir, 'keys', 'audit.key')
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('keygen writes a 0600 key outside the data directory, refuses one inside it and refuses to replace a key', async () => {
    const inside = await dcstore(['--data', data, 'audit', 'keygen', '--out', join(data, 'audit.key')])
    assert.equal(inside.code, EXIT.usage, inside.stderr)
    assert.match(inside.stderr, /^dcstore: audit key .* would be inside the data directory .*\n$/)
    const made = await dcstore(['--data', data, 'audit', 'keygen', '--out', key, '--public-out', join(dir, 'audit.pub')])
    assert.equal(made.code, 0, made.stderr)
    assert.match(made.stdout, /^ed25519:[A-Za-z0-9_-]{43}\n$/)
    assert.equal((await stat(key)).mode & 0o777, 0o600)
    assert.doesNotMatch(await readFile(join(dir, 'audit.pub'), 'utf8'), /privateKey/)
    const again = await dcstore(['--data', data, 'audit', 'keygen', '--out', key])
    assert.equal(again.code, EXIT.usage)
    assert.match(again.stderr, /exists: refusing to replace an audit key/)
  })

  it('an audited command without the key is refused (exit 2) and does nothing', async () => {
    const r = await dcstore(['--data', data, 'enroll', PEER, '--user', 'alice'])
    assert.equal(r.code, EXIT.usage, r.stderr)
    assert.match(r.stderr, /^dcstore: this command is audited and needs the audit signing key: --audit-key FILE or \$DCSTORE_AUDIT_KEY/)
    const listed = await dcstore(['--data', data, '--json', 'enrollment'])
    assert.deepEqual(JSON.parse(listed.stdout), { nodes: {} })
    const verify = await dcstore(['--data', data, 'audit', 'verify'])
    assert.equal(verify.code, EXIT.usage)
  })

  it('entries name the OS user; verify checks them with the key (or its public copy), prints the head and detects damage with exit 6', async () => {
    assert.equal((await withKey('--operator', 'jane', 'enroll', PEER, '--user', 'alice')).code, 0)
    assert.equal((await dcstore(['--data', data, 'enroll', PEER, '--user', 'bob'], { DCSTORE_AUDIT_KEY: key })).code, 0)
    const entries = (await readFile(logPath(), 'utf8')).trim().split('\n').map(l => JSON.parse(l) as { who: { user: string, uid: number }, operator?: string, kind: string })
    assert.deepEqual(entries.map(e => [e.kind, e.who.user, e.who.uid, e.operator]), [
      ['intent', userInfo().username, process.getuid!(), 'jane'], ['outcome', userInfo().username, process.getuid!(), 'jane'],
      ['intent', userInfo().username, process.getuid!(), undefined], ['outcome', userInfo().username, process.getuid!(), undefined]])
    const ok = await dcstore(['--data', data, '--audit-key', join(dir, 'audit.pub'), 'audit', 'verify'])
    assert.equal(ok.code, 0, ok.stderr)
    assert.match(ok.stdout, /^audit log intact: 4 entries signed by ed25519:\S+; head 4:[0-9a-f]{64}\n$/)
    const head = await withKey('audit', 'head')
    assert.match(head.stdout, /^4:[0-9a-f]{64}\n$/)
    const anchor = head.stdout.trim()

    const text = await readFile(logPath(), 'utf8')
    await writeFile(logPath(), text.replace('"alice"', '"mallory"'))
    const edited = await withKey('audit', 'verify')
    assert.equal(edited.code, EXIT.integrity)
    assert.equal(edited.stderr, 'dcstore: audit entry 1 was edited (hash mismatch)\n')
    // an audited command refuses to append to a damaged log
    await writeFile(logPath(), text.split('\n').slice(0, 3).join('\n') + '\n')
    assert.equal((await withKey('enroll', PEER, '--user', 'carol')).code, EXIT.integrity)
    const cut = await withKey('audit', 'verify')
    assert.equal(cut.code, EXIT.integrity)
    assert.match(cut.stderr, /ends at entry 3 but its head says 4/)
    await writeFile(logPath(), text)
    assert.equal((await withKey('audit', 'verify', '--anchor', anchor)).code, 0)
    assert.equal((await withKey('audit', 'verify', '--anchor', '4:' + '0'.repeat(64))).code, EXIT.integrity)
    const bad = await withKey('audit', 'verify', '--anchor', 'nonsense')
    assert.equal(bad.code, EXIT.usage)
    assert.match(bad.stderr, /not SEQ:HASH/)
  })

  it('a key file inside the data directory is refused for every command', async () => {
    await writeFile(join(data, 'audit.key'), await readFile(key))
    const r = await dcstore(['--data', data, '--audit-key', join(data, 'audit.key'), 'discover', 'search', '--user', 'alice'])
    assert.equal(r.code, EXIT.usage)
    assert.match(r.stderr, /inside the data directory/)
    await rm(join(data, 'audit.key'))
  })

  it('an audit lock file left empty (a crash right after creating it) is taken over at once', async () => {
    await writeFile(join(data, 'audit.jsonl.lock'), '')
    const t0 = Date.now()
    const r = await withKey('enroll', PEER, '--user', 'carol')
    assert.equal(r.code, 0, r.stderr)
    assert.ok(Date.now() - t0 < 5_000, 'did not wait for the lock timeout')
    assert.equal((await withKey('audit', 'verify')).code, 0)
  })
})
