import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { ERROR_KINDS, httpStatusFor } from '@cachecloud/core'
import { createControlClient, createControlServer, publishEndpoint, RemoteError, type CachePointApi, type ControlClient, type ControlServer } from '@cachecloud/control'
import { VersionInUseError } from '@cachecloud/daemon'
import { CatalogCorruptError, VersionNotFoundError } from '@cachecloud/image'
import { InvalidMessageError } from '@cachecloud/transfer'
import { exitCodeFor } from '../src/exit-codes.js'

const TOKEN = 'error-wire-test-token-0123456789'
const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))

/** Runs the real CLI; resolves with its exit code and output. */
async function cli (dataDir: string, ...args: string[]): Promise<{ code: number, stdout: string, stderr: string }> {
  return await new Promise(resolve => {
    execFile(process.execPath, [CLI, '--data-dir', dataDir, ...args], (err, stdout, stderr) => {
      resolve({ code: err === null ? 0 : typeof err.code === 'number' ? err.code : -1, stdout, stderr })
    })
  })
}

/**
 * The daemon's side of the wire, reduced to what these calls reach: each throws the error
 * the daemon would. The server, the client and the HTTP between them are the real ones.
 */
const failing = {
  status: async () => { throw new VersionNotFoundError('os@v9 is not held') },
  peers: async () => { throw new Error('a defect: no code at all') },
  images: {
    list: async () => { throw new CatalogCorruptError('catalog ref os@v1 is malformed') },
    gc: async () => { throw new VersionInUseError('os@v1 is in use (served over NBD)') },
    pull: async (_request: unknown, onProgress: (event: { type: string, done: number, total: number }) => void) => {
      onProgress({ type: 'pull:block', done: 1, total: 2 })
      throw new InvalidMessageError('block response with trailing bytes')
    }
  },
  swarm: {},
  exports: {},
  personal: {}
} as unknown as CachePointApi

describe('errors across the control API', () => {
  let server: ControlServer
  let client: ControlClient
  let url: string
  before(async () => {
    server = createControlServer({ api: failing, token: TOKEN })
    url = (await server.start()).url
    client = createControlClient({ url, token: TOKEN, pid: process.pid })
  })
  after(async () => { await server.stop() })

  for (const [call, expected] of [
    ['status', new VersionNotFoundError('x')],
    ['images', new CatalogCorruptError('x')],
    ['gc', new VersionInUseError('x')]
  ] as const) {
    it(`${call}: the answer's status, code and kind are the error's; the CLI exits as it would in-process`, async () => {
      const response = await fetch(`${url}/v1/${call === 'gc' ? 'gc' : call}`, { method: call === 'gc' ? 'POST' : 'GET', headers: { authorization: `Bearer ${TOKEN}` } })
      assert.equal(response.status, httpStatusFor(expected))
      const body = await response.json() as { error: { code: string, kind: string, message: string } }
      assert.equal(body.error.code, expected.code)
      assert.equal(body.error.kind, expected.kind)
      const err = await (client[call] as () => Promise<unknown>)().then(() => undefined, (e: unknown) => e)
      assert.ok(err instanceof RemoteError, String(err))
      assert.equal(err.code, expected.code)
      assert.equal(err.kind, expected.kind)
      assert.equal(exitCodeFor(err), exitCodeFor(expected))
    })
  }

  it('a streamed operation: a peer\'s malformed message ends it as a network failure (exit 7), not bad usage', async () => {
    const events: unknown[] = []
    const err = await client.pull({ ref: 'os@v1' }, (event) => { events.push(event) }).then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof RemoteError, String(err))
    assert.equal(err.code, 'ERR_INVALID_MESSAGE')
    assert.equal(err.kind, 'network')
    assert.equal(exitCodeFor(err), ERROR_KINDS.network.exitCode)
    assert.equal(events.length, 1, 'the progress before the failure arrived')
  })

  it('the real CLI, through this server, exits with the error\'s code and prints its code and kind with --json', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'error-wire-'))
    try {
      await publishEndpoint(dataDir, { url, pid: process.pid })
      await writeFile(join(dataDir, 'control.token'), TOKEN + '\n', { mode: 0o600 })
      const status = await cli(dataDir, '--json', 'status')
      assert.equal(status.code, 4, status.stderr)
      assert.deepEqual(JSON.parse(status.stdout), { error: { code: 'ERR_VERSION_NOT_FOUND', kind: 'not-found', message: 'os@v9 is not held' } })
      assert.equal(status.stderr, 'cachepoint: os@v9 is not held\n')
      const ls = await cli(dataDir, 'image', 'ls')
      assert.equal(ls.code, 6, ls.stderr)
      assert.match(ls.stderr, /catalog ref os@v1 is malformed/)
    } finally {
      await rm(dataDir, { recursive: true, force: true })
    }
  })

  it('an error without a code is internal: HTTP 500, exit 1', async () => {
    const response = await fetch(`${url}/v1/peers`, { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(response.status, 500)
    assert.deepEqual(await response.json(), { error: { code: 'ERR_INTERNAL', kind: 'internal', message: 'a defect: no code at all' } })
    assert.equal(exitCodeFor(await client.peers().catch((e: unknown) => e)), 1)
  })

  it('the server\'s own refusals: unknown route 404 not-found, wrong token 401 (exit 3), wrong Host 421', async () => {
    const none = await fetch(`${url}/v1/nothing-here`, { headers: { authorization: `Bearer ${TOKEN}` } })
    assert.equal(none.status, 404)
    assert.equal((await none.json() as { error: { kind: string } }).error.kind, 'not-found')
    const wrong = createControlClient({ url, token: 'wrong-token-wrong-token-wrong-token', pid: process.pid })
    const unauthorized = await wrong.status().catch((e: unknown) => e)
    assert.equal((unauthorized as RemoteError).code, 'ERR_UNAUTHORIZED')
    assert.equal(exitCodeFor(unauthorized), 3)
    const { port } = new URL(url)
    const { request } = await import('node:http') // fetch does not send a Host of our choosing
    const rebound = await new Promise<number>((resolve, reject) => {
      request(`${url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}`, host: `evil.example:${port}` } }, (res) => { res.resume(); resolve(res.statusCode ?? 0) }).on('error', reject).end()
    })
    assert.equal(rebound, 421)
  })

  it('a forged or foreign error body is bounded: an unknown kind is internal, a long message is cut', async () => {
    const { createServer } = await import('node:http')
    const fake = createServer((_req, res) => {
      res.writeHead(418, { 'content-type': 'application/json' })
      res.end(JSON.stringify({ error: { code: 'not a code', kind: 'constructor', message: 'x'.repeat(100_000) } }))
    })
    await new Promise<void>(resolve => { fake.listen(0, '127.0.0.1', resolve) })
    try {
      const address = fake.address() as { port: number }
      const err = await createControlClient({ url: `http://127.0.0.1:${address.port}`, token: TOKEN, pid: process.pid }).status().catch((e: unknown) => e) as RemoteError
      assert.ok(err instanceof RemoteError)
      assert.equal(err.kind, 'internal')
      assert.equal(err.code, 'ERR_INTERNAL')
      assert.ok(err.message.length <= 4096)
      assert.equal(exitCodeFor(err), 1)
    } finally {
      fake.closeAllConnections()
      await new Promise<void>(resolve => { fake.close(() => { resolve() }) })
    }
  })
})
