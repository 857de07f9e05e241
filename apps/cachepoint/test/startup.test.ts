import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { DAEMON_NODE_ARGS } from '../src/node-args.js'

const run = promisify(execFile)
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))

// What only a command's action may load: libp2p and the packages built on it (the daemon's graph is about a
// thousand modules and most of a second of startup; a static import of it in any command made every call pay).
const HEAVY = ['/node_modules/libp2p/', '/node_modules/@libp2p/', '/node_modules/@chainsafe/', '/packages/network/', '/packages/daemon/']

// A module resolve hook that appends every resolved URL to $TRACE_OUT: what a CLI call really loads.
const HOOK = `import { appendFileSync } from 'node:fs'
export async function resolve (specifier, context, next) {
  const resolved = await next(specifier, context)
  appendFileSync(process.env.TRACE_OUT, resolved.url + '\\n')
  return resolved
}
`
const REGISTER = "import { register } from 'node:module'\nregister(new URL('./hook.mjs', import.meta.url))\n"

describe('cachepoint startup', () => {
  let dir: string
  let traces = 0
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cp-startup-'))
    await writeFile(join(dir, 'hook.mjs'), HOOK)
    await writeFile(join(dir, 'register.mjs'), REGISTER)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  /** The module URLs `cachepoint ...args` resolves, and its stdout. */
  async function loaded (args: string[]): Promise<{ urls: string[], stdout: string }> {
    const out = join(dir, `trace-${traces++}`)
    const { stdout } = await run(process.execPath, ['--import', join(dir, 'register.mjs'), CLI, ...args], { env: { ...process.env, TRACE_OUT: out } })
    const urls = [...new Set((await readFile(out, 'utf8')).split('\n').filter(u => u !== ''))]
    return { urls, stdout }
  }

  it('loads neither libp2p nor the daemon for --version, --help or any command\'s --help', async () => {
    const { urls: base, stdout } = await loaded(['--help'])
    const commands = [...stdout.slice(stdout.indexOf('Commands:')).matchAll(/^ {2}([a-z][a-z-]*)/gm)].map(m => m[1]).filter(c => c !== 'help')
    assert.ok(commands.includes('daemon') && commands.includes('network-key') && commands.length >= 10, `commands read from --help: ${commands.join(', ')}`)
    // the trace works: the CLI's own modules are in it
    assert.ok(base.some(u => u.endsWith('/commands/network-key.js')), 'the resolve hook saw the CLI load its commands')
    for (const args of [['--version'], ['--help'], ...commands.map(c => [c, '--help'])]) {
      const { urls } = args[0] === '--help' ? { urls: base } : await loaded(args)
      const heavy = urls.filter(u => HEAVY.some(h => u.includes(h)))
      assert.deepEqual(heavy.slice(0, 5), [], `cachepoint ${args.join(' ')} loaded ${heavy.length} modules of libp2p or the daemon (${urls.length} in all)`)
    }
  })

  it('loads no libp2p host or daemon for the offline commands: init, id, config get and set', async () => {
    const dataDir = join(dir, 'node')
    // what only a running node needs: libp2p itself, the network's host, the daemon
    const running = ['/node_modules/libp2p/', '/packages/network/dist/src/host.js', '/packages/daemon/dist/src/daemon.js']
    for (const args of [['init'], ['id'], ['config', 'get'], ['config', 'set', 'logLevel', 'debug']]) {
      const { urls } = await loaded(['--data-dir', dataDir, ...args])
      const heavy = urls.filter(u => running.some(h => u.includes(h)))
      assert.deepEqual(heavy.slice(0, 5), [], `cachepoint ${args.join(' ')} loaded ${heavy.length} modules of a running node (${urls.length} in all)`)
    }
    const { stdout } = await loaded(['--data-dir', dataDir, '--json', 'config', 'get', 'logLevel'])
    assert.match(stdout, /debug/)
  })

  it('loads the network package where a command needs it: network-key writes a key', async () => {
    const out = join(dir, 'swarm.key')
    const { urls } = await loaded(['network-key', '--out', out])
    assert.ok(urls.some(u => u.includes('/packages/network/')), 'network-key loaded @cachecloud/network')
    assert.match(await readFile(out, 'utf8'), /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n?$/)
  })

  // the bin is what an administrator runs (`cachepoint daemon` by hand, an init script): node starts it with the
  // daemon's options, as the systemd unit and the launcher do
  it('the bin, executed as a program, starts node with the daemon\'s node options', async () => {
    const shebang = (await readFile(CLI, 'utf8')).split('\n')[0]
    assert.equal(shebang, `#!/usr/bin/env -S node ${DAEMON_NODE_ARGS.join(' ')}`)
    const { stdout } = await run(CLI, ['--version'])
    assert.match(stdout, /\d+\.\d+\.\d+/)
  })
})
