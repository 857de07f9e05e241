import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CLI_PATH, launchCachePoint } from 'cachepoint/launcher'
import { loadConfig } from '@cachecloud/daemon'
import { cli } from './cli-run.js'

const PEER = '12D3KooWJWoaqZhDaoEFshF7Rh1bpY9ohihFhzcW6d69Lr2NASuq'

describe('cachepoint init: swarm flags', () => {
  let dir: string
  let keyFile: string
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-init-swarm-'))
    keyFile = join(dir, 'swarm.key')
    // the organization's key, made by the CLI (mode 600), never overwritten
    const made = await cli(dir, 'network-key', '--out', keyFile)
    assert.equal(made.code, 0, made.stderr)
    assert.equal((await stat(keyFile)).mode & 0o777, 0o600)
    const again = await cli(dir, 'network-key', '--out', keyFile)
    assert.equal(again.code, 5, again.stderr)
    assert.match(again.stderr, /^cachepoint: .*swarm\.key already exists: a network key is not overwritten.*\n$/)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('writes every swarm field to the config, and the daemon starts with them', async () => {
    const dataDir = join(dir, 'ok')
    const run = await cli(dataDir, 'init', '--listen', '/ip4/127.0.0.1/tcp/0', '--site', 'branch-paris', '--wan-max-rate', '20mbit', '--wan-schedule', '8-18=2mbit',
      '--network-key', keyFile, '--allow-peer', PEER, '--bootstrap', `/ip4/10.1.0.10/tcp/4001/p2p/${PEER}`, '--mdns', '--subscribe', 'win11', '--subscribe', 'tools:manual')
    assert.equal(run.code, 0, run.stderr)
    const config = await loadConfig(join(dataDir, 'config.json'))
    assert.equal(config.site, 'branch-paris')
    assert.deepEqual(config.wan, { maxRate: '20mbit', schedule: [{ from: 8, to: 18, maxRate: '2mbit' }] })
    assert.equal(config.networkKey, keyFile)
    assert.deepEqual(config.allowPeers, [PEER])
    assert.deepEqual(config.bootstrap, [`/ip4/10.1.0.10/tcp/4001/p2p/${PEER}`])
    assert.equal(config.mdns, true)
    assert.deepEqual(config.subscriptions, [{ name: 'win11', policy: 'auto' }, { name: 'tools', policy: 'manual' }])
    // the daemon accepts what init wrote: it starts, with the network key, and reports its site and subscriptions
    const node = await launchCachePoint({ dataDir, logLevel: 'info' })
    try {
      const swarm = await node.client.swarmStatus()
      assert.equal(swarm.site, 'branch-paris')
      assert.deepEqual(swarm.subscriptions.map(s => `${s.name}:${s.policy}`), ['win11:auto', 'tools:manual'])
    } finally {
      await node.stop()
    }
  })

  const bad: Array<[string, string[], RegExp]> = [
    ['a site label with a space', ['--site', 'branch paris'], /^--site: "site" must be a label/],
    ['a rate that is not one', ['--wan-max-rate', 'fast'], /^--wan-max-rate\/--wan-schedule: "wan": .*fast/],
    ['a schedule hour past 24', ['--wan-max-rate', '20mbit', '--wan-schedule', '8-25=2mbit'], /^--wan-schedule must be FROM-TO=RATE/],
    ['a schedule without the rate outside it', ['--wan-schedule', '8-18=2mbit'], /^--wan-schedule needs --wan-max-rate/],
    ['a network key file that does not exist', ['--network-key', '/nonexistent/swarm.key'], /^--network-key: cannot read network key \/nonexistent\/swarm\.key: ENOENT/],
    ['a network key file that holds no key', ['--network-key', CLI_PATH], /^--network-key: network key .*: not a network key/],
    ['an allowed peer that is not a peer id', ['--allow-peer', 'alice'], /^--allow-peer: "allowPeers": "alice" is not a peer id/],
    ['a bootstrap address without a peer id', ['--bootstrap', '/ip4/10.1.0.10/tcp/4001'], /^--bootstrap: "bootstrap": .* must end in \/p2p\/<peer id>/],
    ['a bootstrap address that is no multiaddr', ['--bootstrap', 'paris:4001'], /^--bootstrap: "bootstrap": not a valid multiaddr/],
    ['a subscription policy that does not exist', ['--subscribe', 'win11:sometimes'], /^--subscribe must be NAME or NAME:auto or NAME:manual/]
  ]
  for (const [what, args, message] of bad) {
    it(`refuses ${what} with one line, exit code 2, and writes nothing`, async () => {
      const dataDir = join(dir, `bad-${args.join('').replace(/[^a-z0-9]/gi, '')}`)
      const run = await cli(dataDir, 'init', ...args)
      const lines = run.stderr.trim().split('\n')
      assert.equal(lines.length, 1, `one line of error, got: ${run.stderr}`)
      assert.match(lines[0].replace(/^cachepoint: /, ''), message)
      assert.equal(run.code, 2)
      assert.equal(await stat(join(dataDir, 'config.json')).then(() => true, () => false), false, 'no config written')
    })
  }
})
