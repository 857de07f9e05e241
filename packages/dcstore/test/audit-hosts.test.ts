import assert from 'node:assert/strict'
import { spawn, spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { after, before, describe, it } from 'node:test'
import { writeFile } from 'node:fs/promises'
import { AuditLog, formatAuditKey, generateAuditKey, type AuditEntry } from '../src/index.js'
import { findPostgresBin, startPrivateCluster, type PrivateCluster } from './postgres.js'

// Store processes on several hosts append to one audit log (the data
// directory on a NAS). Each writer here runs in its own UTS and PID
// namespace, with its own host name and pids that mean nothing to the other:
// as two machines would. The chain must stay one chain, through lock files
// alone and through the PostgreSQL advisory lock of store processes behind
// one index. (Before lock files named their host, each writer took the
// other's lock for a dead process's and both appended at once.)
const WRITER = fileURLToPath(new URL('./audit-writer.js', import.meta.url))
const unshare = userInfo().uid === 0 && spawnSync('unshare', ['--uts', '--pid', '--fork', 'true']).status === 0
const bin = await findPostgresBin()

/** A writer on "host" `host`, a child of sh in its own namespace: its pid there is 2 + `forks`, so the two writers' pids differ and neither exists in the other's namespace. */
async function writerOnHost (host: string, forks: number, args: string[]): Promise<{ code: number | null, err: string }> {
  const script = `hostname ${host}; ${'/bin/true; '.repeat(forks)}"$0" "$@"`
  const child = spawn('unshare', ['--uts', '--pid', '--fork', '--kill-child', 'sh', '-c', script, process.execPath, WRITER, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  return await new Promise(resolve => child.on('exit', code => { resolve({ code, err }) }))
}

describe('audit log with writers on several hosts', { skip: unshare ? false : 'needs root and unshare(1) to give each writer its own host name and pids' }, () => {
  let dir: string
  let keyFile: string
  let cluster: PrivateCluster | undefined
  const key = generateAuditKey()
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcaudit-hosts-'))
    keyFile = join(dir, 'audit.key')
    await writeFile(keyFile, formatAuditKey(key))
  })
  after(async () => { await cluster?.stop(); await rm(dir, { recursive: true, force: true }) })

  const appendFromTwoHosts = async (logDir: string, pgUrl = ''): Promise<AuditEntry[]> => {
    await mkdir(logDir)
    const runs = await Promise.all([['store-a', 0], ['store-b', 3]].map(async ([host, forks]) => await writerOnHost(host as string, forks as number, [logDir, '100', host as string, keyFile, '', pgUrl])))
    for (const r of runs) assert.equal(r.code, 0, r.err)
    const log = new AuditLog(join(logDir, 'audit.jsonl'), join(logDir, 'audit.head'), { key })
    const report = await log.verify()
    assert.equal(report.entries, 400)
    assert.equal(report.open.length, 0)
    const entries = (await readFile(join(logDir, 'audit.jsonl'), 'utf8')).trim().split('\n').map(l => JSON.parse(l) as AuditEntry)
    assert.deepEqual([...new Set(entries.map(e => e.who.host))].sort(), ['store-a', 'store-b'])
    return entries
  }

  it('two hosts appending at once through lock files: one chain, audit verify passes', async () => {
    await appendFromTwoHosts(join(dir, 'files'))
  })

  it('two hosts appending at once under the PostgreSQL advisory lock: one chain', { skip: bin === undefined ? 'Debian postgresql not installed' : false }, async () => {
    cluster = await startPrivateCluster(bin!)
    await appendFromTwoHosts(join(dir, 'pg'), `postgres://postgres@127.0.0.1:${cluster.port}/postgres`)
  })
})
