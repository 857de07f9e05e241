import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { spawn, type ChildProcess } from 'node:child_process'
import { realpathSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { connectToDaemon, type ControlClient } from '@cachecloud/control'
import { CLI_PATH, initLoopbackNode } from 'cachepoint/launcher'
import { waitFor } from '@cachecloud/test-utils'

// Issue 12: an error of one peer connection that escapes every handler (as
// the private network's cipher overflow did) must cost that connection, not
// the daemon; any other escaped error is logged as fatal and the daemon exits
// with code 1. The real `cachepoint daemon` runs with a preloaded module that,
// on each SIGUSR2, lets the next of these errors escape from a timer.

// The cipher failure is the network package's own class, the instance the daemon loads (it is told apart by class, not by a code string).
const NETWORK = pathToFileURL(realpathSync(fileURLToPath(import.meta.resolve('@cachecloud/network')))).href
const INJECT = `
import { PnetCipherError } from ${JSON.stringify(NETWORK)}
const errors = [
  () => { setImmediate(() => { throw Object.assign(new Error('stream reset by the remote'), { name: 'StreamResetError' }) }) },
  () => { void Promise.reject(new PnetCipherError('private-network cipher failed')) },
  () => { setImmediate(() => { null.boom() }) }
]
let next = 0
process.on('SIGUSR2', () => { errors[next++]?.() })
`

describe('the daemon\'s last resort: errors of one connection are survived, others end it with code 1', () => {
  let dir: string
  let child: ChildProcess
  let client: ControlClient
  let log = ''
  let exitCode: number | null | undefined

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-lastresort-'))
    const inject = join(dir, 'inject.mjs')
    await writeFile(inject, INJECT)
    const dataDir = join(dir, 'node')
    await initLoopbackNode(dataDir)
    child = spawn(process.execPath, ['--import', inject, CLI_PATH, '--data-dir', dataDir, 'daemon', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] })
    child.stdout?.on('data', (d: Buffer) => { log += d.toString() })
    child.stderr?.on('data', (d: Buffer) => { log += d.toString() })
    child.once('exit', (code) => { exitCode = code })
    const end = Date.now() + 20_000
    for (;;) {
      try {
        client = await connectToDaemon(dataDir)
        await client.status()
        break
      } catch {
        if (Date.now() > end || exitCode !== undefined) throw new Error(`daemon did not start: ${log}`)
        await sleep(50)
      }
    }
  })

  after(async () => {
    if (exitCode === undefined) child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('an uncaught StreamResetError and an unhandled PnetCipherError are logged, and the daemon keeps serving', async () => {
    child.kill('SIGUSR2')
    await waitFor(() => log.includes('stream reset by the remote'), { timeoutMs: 10_000, intervalMs: 25, what: 'the first error in the log' })
    child.kill('SIGUSR2')
    await waitFor(() => log.includes('private-network cipher failed'), { timeoutMs: 10_000, intervalMs: 25, what: 'the second error in the log' })
    await sleep(200)
    assert.equal(exitCode, undefined, `the daemon still runs\n${log}`)
    assert.match((await client.status()).peerId, /^12D3Koo/, 'its control API still answers')
    const lines = log.split('\n').filter(l => l.includes('one peer connection')).map(l => JSON.parse(l) as { level: number, kind: string })
    assert.deepEqual(lines.map(l => [l.level, l.kind]), [[50, 'uncaughtException'], [50, 'unhandledRejection']], 'logged at error level, by pino')
  })

  it('any other uncaught error is logged as fatal and the daemon exits with code 1', async () => {
    child.kill('SIGUSR2')
    await waitFor(() => exitCode !== undefined, { timeoutMs: 10_000, intervalMs: 25, what: 'the daemon to exit' })
    assert.equal(exitCode, 1)
    const fatal = log.split('\n').filter(l => l.includes('"level":60')).map(l => JSON.parse(l) as { msg: string, err?: { message?: string } })
    assert.equal(fatal.length, 1, log)
    assert.match(fatal[0].msg, /unexpected error: the daemon exits/)
    assert.match(fatal[0].err?.message ?? '', /null|boom/)
  })
})
