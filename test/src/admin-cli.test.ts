import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { constants } from 'node:fs'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { CLI_PATH, launchCachePoint } from 'cachepoint/launcher'
import { cli, cliJson, type CliRun } from './cli-run.js'

const PEER = '12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
const REPO = resolve(fileURLToPath(new URL('../../..', import.meta.url)))

function oneLine (run: CliRun, code: number, pattern: RegExp): void {
  const lines = run.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line of error, got: ${run.stderr}`)
  assert.match(lines[0], pattern)
  assert.equal(run.code, code, run.stderr)
}

describe('cachepoint config, id and --version', () => {
  let dir: string
  let dataDir: string
  let peerId: string
  const configFile = async (): Promise<Record<string, unknown>> => JSON.parse(await readFile(join(dataDir, 'config.json'), 'utf8')) as Record<string, unknown>

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-admin-cli-'))
    dataDir = join(dir, 'node')
    peerId = (await cliJson<{ peerId: string }>(dataDir, 'init', '--listen', '/ip4/127.0.0.1/tcp/0')).peerId
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('gets values in effect, defaults included', async () => {
    assert.equal((await cli(dataDir, 'config', 'get', 'listen')).stdout, '/ip4/127.0.0.1/tcp/0\n')
    assert.equal((await cli(dataDir, 'config', 'get', 'logLevel')).stdout, 'info\n')
    assert.deepEqual(await cliJson(dataDir, 'config', 'get', 'peers'), [])
    oneLine(await cli(dataDir, 'config', 'get', 'listn'), 2, /unknown config key listn \(did you mean listen\?\)/)
  })

  it('sets, adds and removes with the rules of the config file, leaving the file as it was on a refusal', async () => {
    const set = await cli(dataDir, 'config', 'set', 'blockSize', '1048576')
    assert.equal(set.code, 0, set.stderr)
    assert.match(set.stdout, /takes effect when the daemon starts/)
    assert.equal((await configFile()).blockSize, 1048576)

    const before = await readFile(join(dataDir, 'config.json'), 'utf8')
    oneLine(await cli(dataDir, 'config', 'set', 'blockSize', '3000'), 2, /^cachepoint: config set blockSize: "blockSize" must be a power of two/)
    oneLine(await cli(dataDir, 'config', 'add', 'peers', '/ip4/127.0.0.1/tcp/4001'), 2, /must end in \/p2p\/<peer id>/)
    oneLine(await cli(dataDir, 'config', 'add', 'listen', '/ip4/0.0.0.0/tcp/4001'), 2, /reachable beyond this host/)
    oneLine(await cli(dataDir, 'config', 'set', 'mdns', 'perhaps'), 2, /must be JSON/)
    oneLine(await cli(dataDir, 'config', 'remove', 'peers', '/ip4/127.0.0.1/tcp/9/p2p/' + PEER), 4, /is not in peers/)
    assert.equal(await readFile(join(dataDir, 'config.json'), 'utf8'), before, 'a refused change writes nothing')

    assert.equal((await cli(dataDir, 'config', 'add', 'allowPeers', PEER)).code, 0)
    assert.equal((await cli(dataDir, 'config', 'add', 'listen', '/ip4/0.0.0.0/tcp/4001')).code, 0, 'beyond loopback with an allow-list')
    assert.equal((await cli(dataDir, 'config', 'add', 'listen', '/ip4/0.0.0.0/tcp/4001')).code, 0, 'adding twice keeps one')
    assert.deepEqual((await configFile()).listen, ['/ip4/127.0.0.1/tcp/0', '/ip4/0.0.0.0/tcp/4001'])
    oneLine(await cli(dataDir, 'config', 'remove', 'allowPeers'), 2, /reachable beyond this host/)
    assert.equal((await cli(dataDir, 'config', 'remove', 'listen', '/ip4/0.0.0.0/tcp/4001')).code, 0)
    assert.equal((await cli(dataDir, 'config', 'remove', 'allowPeers')).code, 0)
    assert.equal((await configFile()).allowPeers, undefined)

    assert.equal((await cli(dataDir, 'config', 'set', 'wan', '{"maxRate":"20mbit"}')).code, 0)
    assert.deepEqual(JSON.parse((await cli(dataDir, 'config', 'get', 'wan')).stdout), { maxRate: '20mbit' })
    assert.equal((await cli(dataDir, 'config', 'add', 'subscriptions', '{"name":"win11"}')).code, 0)
    assert.deepEqual((await configFile()).subscriptions, [{ name: 'win11' }])
  })

  it('removes a key it does not know, which is how a typo in the file is fixed', async () => {
    await writeFile(join(dataDir, 'config.json'), JSON.stringify({ ...await configFile(), listn: ['x'] }))
    oneLine(await cli(dataDir, 'config', 'get', 'listen'), 9, /unknown key listn \(did you mean listen\?\)/)
    assert.equal((await cli(dataDir, 'config', 'remove', 'listn')).code, 0)
    assert.equal((await cli(dataDir, 'config', 'get', 'listen')).code, 0)
  })

  it('says a running daemon reads the change at its next start', async () => {
    const daemon = await launchCachePoint({ dataDir })
    try {
      const r = await cli(dataDir, 'config', 'set', 'logLevel', 'debug')
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, new RegExp(`daemon \\(pid ${daemon.process.pid ?? 0}\\) reads it at its next start`))
    } finally {
      await daemon.stop()
    }
  })

  it('prints the identity of a stopped node, and refuses an uninitialized one', async () => {
    const id = await cliJson<{ peerId: string, publisherKey: string, addresses: string[] }>(dataDir, 'id')
    assert.equal(id.peerId, peerId)
    assert.match(id.publisherKey, /^ed25519:/)
    assert.deepEqual(id.addresses, [`/ip4/127.0.0.1/tcp/0/p2p/${peerId}`])
    const text = await cli(dataDir, 'id')
    assert.match(text.stdout, new RegExp(`peer id:\\s+${peerId}`))
    oneLine(await cli(join(dir, 'nothing'), 'id'), 3, /cachepoint init/)
  })

  it('prints its version, also through npx from the repository root', async () => {
    const r = await cli(dataDir, '--version')
    assert.match(r.stdout, /^cachepoint \d+\.\d+\.\d+\n$/)
    const direct = await promisify(execFile)(process.execPath, [CLI_PATH, '--version'])
    assert.equal(direct.stdout, r.stdout)
    await access(CLI_PATH, constants.X_OK)
    const npx = await promisify(execFile)('npx', ['--no-install', 'cachepoint', '--version'], { cwd: REPO })
    assert.equal(npx.stdout, r.stdout)
    const imp = await cli(dataDir, 'image', 'import', '--help')
    assert.match(imp.stdout, /--version <version>/, 'image import keeps its own --version option')
  })
})
