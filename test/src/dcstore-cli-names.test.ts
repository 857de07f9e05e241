import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DCSTORE_CLI, dcstore, launch, NODE_CHILD, run } from './personal-procs.js'

const EVIL = 'report\u001b[2J\u001b[31mred\nfake  line\u009b1m.txt'

// A file name is the user's (or an attacker's) text: in a terminal listing an
// ANSI sequence or a newline in it must not forge output (real node, real store, real CLI).
describe('dcstore listings escape control characters in names', () => {
  let dir: string
  let data: string
  let keyFile: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-names-'))
    data = join(dir, 'store')
    keyFile = join(dir, 'discovery.key')
    const discoveryPublic = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    const home = join(dir, 'node')
    const folder = join(dir, 'alice')
    await mkdir(folder)
    await writeFile(join(folder, EVIL), 'payload\n')
    await writeFile(join(folder, 'plain.txt'), 'plain\n')
    const common = ['--home', home, '--folder', folder, '--user', 'alice', '--discovery', discoveryPublic]
    await run(NODE_CHILD, ['snapshot', ...common])
    const node = JSON.parse(await run(NODE_CHILD, ['peer-id', '--home', home])) as { peerId: string }
    await run(DCSTORE_CLI, ['--data', data, 'enroll', node.peerId, '--user', 'alice'])
    const serve = launch(DCSTORE_CLI, ['--data', data, '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0'])
    try {
      const ready = await serve.waitFor(e => e.peerId !== undefined)
      await run(NODE_CHILD, ['replicate', ...common, '--store', (ready.addrs as string[])[0]])
    } finally {
      // also when the replication failed: a store left running would keep the test file from ending
      serve.child.kill('SIGTERM')
      await serve.exited
    }
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('tree, search and diff print one line per file, with no raw control character', async () => {
    for (const args of [['discover', 'tree', '--user', 'alice'], ['discover', 'search', '--user', 'alice'], ['discover', 'diff', '--user', 'alice', '--from', '2000-01-01T00:00:00Z', '--to', new Date().toISOString()]]) {
      const r = await dcstore('--data', data, ...args)
      assert.equal(r.code, 0, r.stderr)
      const lines = r.stdout.split('\n').filter(l => l !== '' && !l.startsWith('#'))
      assert.equal(lines.length, 2, `${args[1]}: ${JSON.stringify(r.stdout)}`)
      assert.doesNotMatch(r.stdout, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, args[1])
      assert.ok(r.stdout.includes('report\\x1b[2J\\x1b[31mred\\nfake  line\\x9b1m.txt'), `${args[1]}: ${JSON.stringify(r.stdout)}`)
    }
    // JSON output keeps the exact name (JSON escapes it)
    const json = JSON.parse((await dcstore('--data', data, '--json', 'discover', 'search', '--user', 'alice')).stdout) as Array<{ path: string }>
    assert.ok(json.some(f => f.path === EVIL))
  })

  it('an export writes the file under its real name, and SHA256SUMS escapes it (sha256sum -c passes)', async () => {
    const to = join(dir, 'case')
    const r = await dcstore('--data', data, '--discovery-key', keyFile, 'discover', 'export', '--user', 'alice', '--to', to)
    assert.equal(r.code, 0, r.stderr)
    assert.equal(await readFile(join(to, EVIL), 'utf8'), 'payload\n')
    const sums = await readFile(join(to, 'SHA256SUMS'), 'utf8')
    assert.equal(sums.split('\n').filter(l => l !== '').length, 2)
    await new Promise<void>((resolve, reject) => {
      spawn('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: to, stdio: 'ignore' }).on('close', code => { code === 0 ? resolve() : reject(new Error(`sha256sum -c exited ${String(code)}`)) })
    })
  })
})
