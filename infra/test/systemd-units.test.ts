import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { DAEMON_NODE_ARGS } from 'cachepoint/launcher'

// infra/dist/test -> the repository
const ROOT = fileURLToPath(new URL('../../../', import.meta.url))
const UNITS = join(ROOT, 'infra', 'systemd')
const INSTALLED = '/opt/cachecloud/current'

interface Run { code: number, stdout: string, stderr: string }
async function run (cmd: string, args: string[], cwd?: string): Promise<Run> {
  return await new Promise((resolve) => {
    execFile(cmd, args, { cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1, stdout, stderr })
    })
  })
}

async function analyzeMissing (): Promise<string | false> {
  const r = await run('systemd-analyze', ['--version'])
  return r.code === 0 ? false : 'systemd-analyze is not installed (apt-get install -y systemd)'
}

const skip = await analyzeMissing()

describe('hardened systemd units (systemd-analyze verify)', { skip }, () => {
  let dir: string
  before(async () => { dir = await mkdtemp(join(tmpdir(), 'cc-units-')) })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  /** The unit with the release path pointing at this checkout, so verify also finds what it starts. */
  async function localCopy (name: string, edit: (text: string) => string = t => t): Promise<string> {
    const text = await readFile(join(UNITS, name), 'utf8')
    const path = join(dir, name)
    await writeFile(path, edit(text.replaceAll(INSTALLED, ROOT.replace(/\/$/, ''))))
    return path
  }

  for (const [unit, user, script] of [['cachepoint.service', 'cachepoint', 'apps/cachepoint/dist/src/cli.js'], ['dcstore.service', 'dcstore', 'apps/dcstore/dist/src/cli.js']] as const) {
    it(`${unit}: verifies with no warning, runs as its own user in a strict sandbox, exposure at most 2.0`, async () => {
      const text = await readFile(join(UNITS, unit), 'utf8')
      for (const line of [`User=${user}`, `StateDirectory=${user}`, `ReadWritePaths=/var/lib/${user}`, 'ProtectSystem=strict', 'ProtectHome=yes', 'PrivateTmp=yes',
        'NoNewPrivileges=yes', 'Restart=on-failure', 'CapabilityBoundingSet=', 'SystemCallFilter=@system-service', 'UMask=0077']) {
        assert.ok(text.split('\n').includes(line), `${unit} has ${line}`)
      }
      // the daemon's node options, as the launcher and the bin give them (apps/cachepoint/src/node-args.ts)
      const nodeArgs = unit === 'cachepoint.service' ? DAEMON_NODE_ARGS.map(a => `${a} `).join('') : ''
      assert.match(text, new RegExp(`^ExecStart=/usr/bin/node ${nodeArgs}${INSTALLED}/${script} `, 'm'))
      await access(join(ROOT, script)) // the release layout the unit starts is this repository's
      const path = await localCopy(unit)
      const verify = await run('systemd-analyze', ['verify', path])
      assert.equal(verify.code, 0, verify.stderr)
      assert.equal(verify.stderr.trim(), '', 'no warning either')
      const security = await run('systemd-analyze', ['security', '--offline=yes', '--no-pager', path])
      const exposure = /Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout + security.stderr)
      assert.ok(exposure !== null, security.stdout + security.stderr)
      assert.ok(Number(exposure[1]) <= 2.0, `exposure ${exposure[1]}`)
    })
  }

  it('the check can fail: a misspelt directive or a missing executable is reported', async () => {
    const typo = await localCopy('cachepoint.service', t => t.replace('ProtectSystem=strict', 'ProtectSytem=strict'))
    const r = await run('systemd-analyze', ['verify', typo])
    assert.match(r.stderr, /Unknown key 'ProtectSytem'/)
    const gone = await localCopy('dcstore.service', t => t.replace('ExecStart=/usr/bin/node', 'ExecStart=/nonexistent/node'))
    const g = await run('systemd-analyze', ['verify', gone])
    assert.notEqual(g.code, 0)
    assert.match(g.stderr, /not executable/)
  })

  it('the options the units pass exist in the CLIs they start', async () => {
    const daemon = await run(process.execPath, [join(ROOT, 'apps/cachepoint/dist/src/cli.js'), 'daemon', '--help'])
    assert.equal(daemon.code, 0, daemon.stderr)
    const serve = await run(process.execPath, [join(ROOT, 'apps/dcstore/dist/src/cli.js'), 'serve', '--help'])
    assert.equal(serve.code, 0, serve.stderr)
    for (const option of ['--listen', '--network-key', '--metrics']) assert.ok(serve.stdout.includes(option), `dcstore serve ${option}`)
    const top = await run(process.execPath, [join(ROOT, 'apps/dcstore/dist/src/cli.js'), '--help'])
    for (const option of ['--data', '--discovery-key']) assert.ok(top.stdout.includes(option), `dcstore ${option}`)
    const cp = await run(process.execPath, [join(ROOT, 'apps/cachepoint/dist/src/cli.js'), '--help'])
    assert.ok(cp.stdout.includes('--data-dir'))
  })
})
