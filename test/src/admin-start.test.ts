import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { CLI_PATH, initLoopbackNode } from 'cachepoint/launcher'
import type { CliRun } from './cli-run.js'

/** Runs `cachepoint daemon`; a daemon still alive after `ms` is killed and reported as such (code null). */
async function daemonRun (dataDir: string, ms: number): Promise<CliRun & { killed: boolean }> {
  const child = spawn(process.execPath, [CLI_PATH, '--data-dir', dataDir, 'daemon'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  let killed = false
  const timer = setTimeout(() => { killed = true; child.kill('SIGKILL') }, ms)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr, killed }
}

async function listening (): Promise<{ server: Server, port: number }> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

describe('cachepoint daemon: a start that fails stops everything and exits', () => {
  let dir: string
  let taken: { server: Server, port: number }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-admin-start-'))
    taken = await listening()
  })

  after(async () => {
    taken.server.close()
    await rm(dir, { recursive: true, force: true })
  })

  it('a taken control port: exit 11 and one line naming it, nothing left listening, no lock', async () => {
    const dataDir = join(dir, 'control')
    await initLoopbackNode(dataDir, { controlPort: taken.port })
    const r = await daemonRun(dataDir, 15_000)
    assert.equal(r.killed, false, `the daemon must exit by itself; it lingered. stderr: ${r.stderr}`)
    assert.equal(r.code, 11, r.stderr)
    const lines = r.stderr.trim().split('\n')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], new RegExp(`control port 127\\.0\\.0\\.1:${taken.port} is already in use`))
    const left = await readdir(dataDir)
    assert.ok(!left.includes('daemon.lock'), `no lock left: ${left.join(' ')}`)
    assert.ok(!left.includes('control.json'), 'no endpoint published')
    assert.match(r.stdout, /start failed; stopping what was started/)
  })

  it('a taken libp2p listen port: exit 11 and one line naming the address', async () => {
    const dataDir = join(dir, 'listen')
    const addr = `/ip4/127.0.0.1/tcp/${taken.port}`
    await initLoopbackNode(dataDir, { listen: [addr] })
    const r = await daemonRun(dataDir, 15_000)
    assert.equal(r.killed, false, r.stderr)
    assert.equal(r.code, 11, r.stderr)
    const lines = r.stderr.trim().split('\n')
    assert.equal(lines.length, 1, r.stderr)
    assert.match(lines[0], new RegExp(`listen address ${addr} is already in use`))
    assert.ok(!(await readdir(dataDir)).includes('daemon.lock'))
  })
})
