import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { initLoopbackNode, launchCachePoint } from 'cachepoint/launcher'
import { cli, type CliRun } from './cli-run.js'
import { run, runOk } from '@cachecloud/fixtures'
import { daemonRun } from './admin-run.js'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'

function oneLine (run: CliRun, code: number, pattern: RegExp): void {
  const lines = run.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line of error, got: ${run.stderr}`)
  assert.match(lines[0], pattern)
  assert.equal(run.code, code, run.stderr)
}

describe('cachepoint config: checked by a schema, secure by default', () => {
  let dir: string
  let n = 0
  /** A loopback data directory whose config.json then gets `change` applied. */
  const node = async (change: (doc: Record<string, unknown>) => void = () => {}): Promise<string> => {
    const dataDir = join(dir, `n${n++}`)
    await initLoopbackNode(dataDir)
    const path = join(dataDir, 'config.json')
    const doc = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
    change(doc)
    await writeFile(path, JSON.stringify(doc, null, 2))
    return dataDir
  }
  /** The daemon must refuse the config: exit 9, one line, before listening on anything. */
  const refused = async (dataDir: string, pattern: RegExp): Promise<void> => {
    const r = await daemonRun(dataDir, 15_000)
    assert.equal(r.killed, false, `the daemon started with a config it should refuse: ${r.stdout.slice(0, 400)}`)
    oneLine(r, 9, pattern)
    assert.match(r.stderr, /config\.json/)
  }

  before(async () => { dir = await mkdtemp(join(tmpdir(), 'cc-admin-config-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('refuses an unknown key, suggesting the nearest one, at the top and inside objects', async () => {
    await refused(await node(doc => { doc.listn = doc.listen; delete doc.listen }), /unknown key listn \(did you mean listen\?\)/)
    await refused(await node(doc => { doc.wan = { maxrate: '2mbit' } }), /unknown key wan\.maxrate \(did you mean wan\.maxRate\?\)/)
    await refused(await node(doc => { doc.zzzzzzzz = 1 }), /unknown key zzzzzzzz$/)
  })

  it('refuses peers without a peer id, a block size that is no power of two, and wrong types', async () => {
    await refused(await node(doc => { doc.peers = ['/ip4/127.0.0.1/tcp/4001'] }), /"peers": \/ip4\/127\.0\.0\.1\/tcp\/4001 must end in \/p2p\/<peer id>/)
    await refused(await node(doc => { doc.blockSize = 3000 }), /"blockSize" must be a power of two/)
    await refused(await node(doc => { doc.controlPort = 'x' }), /"controlPort" must be a port number/)
    await refused(await node(doc => { doc.mdns = 'yes' }), /"mdns" must be true or false/)
  })

  it('names the flag with exit 2 for bad init flags, not config.json with exit 9', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--listen', 'not-a-multiaddr'], /^cachepoint: --listen: /],
      [['--trust', 'ed25519:nope'], /^cachepoint: --trust: /],
      [['--control-port', '70000'], /^cachepoint: --control-port: "controlPort" must be a port number/],
      [['--block-size', '3000'], /^cachepoint: --block-size: "blockSize" must be a power of two/],
      [['--peer', '/ip4/127.0.0.1/tcp/4001'], /^cachepoint: --peer: .*must end in \/p2p\/<peer id>/]
    ]
    for (const [flags, pattern] of cases) {
      const dataDir = join(dir, `flags${n++}`)
      const r = await cli(dataDir, 'init', ...flags)
      oneLine(r, 2, pattern)
      assert.doesNotMatch(r.stderr, /config\.json/)
      await assert.rejects(stat(join(dataDir, 'config.json')), 'nothing initialized')
    }
  })

  it('refuses a listen address beyond loopback without network key or allow-list, at init (exit 2) and in the config (exit 9)', async () => {
    const open = await cli(join(dir, `open${n++}`), 'init', '--listen', '/ip4/0.0.0.0/tcp/4001')
    oneLine(open, 2, /--listen \/ip4\/0\.0\.0\.0\/tcp\/4001 is reachable beyond this host.*--network-key.*--allow-peer.*--insecure-open/)
    await refused(await node(doc => { doc.listen = ['/ip4/0.0.0.0/tcp/0'] }), /"listen" \/ip4\/0\.0\.0\.0\/tcp\/0 is reachable beyond this host.*"insecureOpen": true/)

    const allowed = await cli(join(dir, `allowed${n++}`), 'init', '--listen', '/ip4/0.0.0.0/tcp/4001', '--allow-peer', PEER)
    assert.equal(allowed.code, 0, allowed.stderr)
    const optedOut = join(dir, `optout${n++}`)
    const insecure = await cli(optedOut, 'init', '--listen', '/ip4/0.0.0.0/tcp/4001', '--insecure-open')
    assert.equal(insecure.code, 0, insecure.stderr)
    assert.equal((JSON.parse(await readFile(join(optedOut, 'config.json'), 'utf8')) as { insecureOpen?: boolean }).insecureOpen, true)
    // with no --listen at all, a node listens on loopback only
    const plain = join(dir, `plain${n++}`)
    assert.equal((await cli(plain, 'init')).code, 0)
    assert.deepEqual((JSON.parse(await readFile(join(plain, 'config.json'), 'utf8')) as { listen: string[] }).listen, ['/ip4/127.0.0.1/tcp/4001'])
  })

  it('warns at every start of an insecureOpen node (run in a network namespace of its own, so nothing is open to the host)', async (t) => {
    const ns = `cc-admin-${process.pid}`
    const made = await run('ip', ['netns', 'add', ns]).catch((err: Error) => ({ code: -1, stderr: err.message, stdout: '' }))
    if (made.code !== 0) {
      t.skip(`no network namespace: ip netns add failed (${made.stderr.trim()})`)
      return
    }
    try {
      await runOk('ip', ['-n', ns, 'link', 'set', 'lo', 'up'])
      const dataDir = join(dir, `insecure${n++}`)
      assert.equal((await cli(dataDir, 'init', '--listen', '/ip4/0.0.0.0/tcp/0', '--insecure-open')).code, 0)
      for (let start = 0; start < 2; start++) {
        const r = await daemonRun(dataDir, 8_000, ['ip', 'netns', 'exec', ns], 'CachePoint started')
        assert.ok(r.stdout.includes('CachePoint started'), r.stderr)
        const warning = r.stdout.split('\n').find(line => line.includes('insecureOpen'))
        assert.ok(warning !== undefined, `start ${start + 1} warns: ${r.stdout.slice(0, 600)}`)
        assert.equal((JSON.parse(warning) as { level: number }).level, 40, 'at warn')
        assert.match(warning, /\/ip4\/0\.0\.0\.0\/tcp\/0 with neither a network key nor an allow-list/)
      }
    } finally {
      await run('ip', ['netns', 'del', ns])
    }
  })

  it('makes the data directory 0700 at init and again at start (logged)', async () => {
    const dataDir = join(dir, `private${n++}`)
    assert.equal((await cli(dataDir, 'init', '--listen', '/ip4/127.0.0.1/tcp/0')).code, 0)
    assert.equal((await stat(dataDir)).mode & 0o777, 0o700)
    await chmod(dataDir, 0o755)
    const daemon = await launchCachePoint({ dataDir })
    try {
      assert.equal((await stat(dataDir)).mode & 0o777, 0o700)
    } finally {
      await daemon.stop()
    }
    assert.match(await readFile(join(dataDir, 'daemon.log'), 'utf8'), /data directory was open to other users \(mode 755\): made it 0700/)

    // a shared directory such as /tmp is refused, not changed; an empty one (a fresh mount point) is taken over
    const shared = join(dir, `shared${n++}`)
    await mkdir(shared)
    await chmod(shared, 0o1777)
    await writeFile(join(shared, 'someone-elses.txt'), 'x')
    oneLine(await cli(shared, 'init'), 9, /is shared \(mode 1777\) and holds other files/)
    assert.equal((await stat(shared)).mode & 0o7777, 0o1777)
    const mount = join(dir, `mount${n++}`)
    await mkdir(mount)
    await chmod(mount, 0o1777)
    assert.equal((await cli(mount, 'init', '--listen', '/ip4/127.0.0.1/tcp/0')).code, 0)
    assert.equal((await stat(mount)).mode & 0o7777, 0o700)
  })
})
