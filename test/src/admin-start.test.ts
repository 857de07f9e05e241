import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { initLoopbackNode, launchCachePoint } from 'cachepoint/launcher'
import { daemonRun } from './admin-run.js'

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

  // the launcher (tests, infra) said only "exited with code 11; see its log", and CI removes the log with the test's directory
  it('launched by the launcher, a daemon that cannot start is reported with its exit code and its one line', async () => {
    const dataDir = join(dir, 'launched')
    await initLoopbackNode(dataDir, { controlPort: taken.port })
    await assert.rejects(launchCachePoint({ dataDir, timeoutMs: 15_000 }), (err: Error) => {
      assert.match(err.message, new RegExp(`exited with code 11: .*control port 127\\.0\\.0\\.1:${taken.port} is already in use.*\\(${dataDir}/daemon\\.log\\)$`))
      return true
    })
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
