import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { after, before, describe, it } from 'node:test'
import type { CachePointApi } from '../src/api.js'
import { createControlServer, type ControlServer } from '../src/server.js'

const TOKEN = 'control-server-test-token-0123456789'

type Call = [string, ...unknown[]]

/**
 * The server under test is real (HTTP on 127.0.0.1, the token, the routes, the bodies'
 * validation); what it calls is a CachePointApi that records each call, since the daemon
 * is a layer above this package (daemon/test/subsystems.test.ts runs these routes against
 * a real daemon). This pins the HTTP API the CLI, the tray and the status page use: each
 * path reaches its subsystem's method with the validated body.
 */
function recordingApi (calls: Call[]): CachePointApi {
  const subsystem = (
    name: string,
    methods: string[]
  ): Record<string, (...args: unknown[]) => Promise<unknown>> => Object.fromEntries(methods.map(m => [m, async (...args: unknown[]) => {
    const progress = args.find(a => typeof a === 'function') as ((e: unknown) => void) | undefined
    progress?.({ type: 'test:step', done: 1, total: 2 })
    calls.push([`${name}${name === '' ? '' : '.'}${m}`, ...args.filter(a => typeof a !== 'function')])
    return { answered: `${name}.${m}` }
  }]))
  return {
    ...subsystem('', ['status', 'peers', 'pause', 'resume', 'sync']),
    images: subsystem('images', ['list', 'import', 'pull', 'export', 'diff', 'gc', 'remove', 'prune', 'check']),
    swarm: subsystem('swarm', ['publish', 'subscribe', 'unsubscribe', 'plan', 'status', 'rollout']),
    exports: subsystem('exports', ['serve', 'list', 'unserve', 'overlays', 'discardOverlay', 'commitOverlay', 'cloneOverlay', 'rebaseOverlay']),
    personal: subsystem('personal', ['status', 'log', 'snapshot', 'restore'])
  } as unknown as CachePointApi
}

/** Every route of the API (docs/formats/control-api.md): method, path, body, and the call it makes. */
const ROUTES: Array<[string, string, unknown, Call, boolean?]> = [
  ['GET', '/status', undefined, ['status']],
  ['GET', '/peers', undefined, ['peers']],
  ['POST', '/pause', undefined, ['pause']],
  ['POST', '/resume', undefined, ['resume']],
  ['POST', '/sync', undefined, ['sync']],
  ['GET', '/images', undefined, ['images.list']],
  ['GET', '/images/diff?from=os%401&to=os%402', undefined, ['images.diff', 'os@1', 'os@2']],
  ['POST', '/images/import', { file: '/a.raw', name: 'os', version: '1' }, ['images.import', { file: '/a.raw', name: 'os', version: '1', blockSize: undefined, compressionLevel: undefined, format: undefined }], true],
  ['POST', '/images/pull', { ref: 'os@1' }, ['images.pull', { ref: 'os@1', from: undefined }], true],
  ['POST', '/images/export', { ref: 'os@1', file: '/o.raw' }, ['images.export', { ref: 'os@1', file: '/o.raw', overwrite: undefined, format: undefined }], true],
  ['POST', '/gc', undefined, ['images.gc']],
  ['POST', '/images/rm', { ref: 'os@1' }, ['images.remove', { ref: 'os@1', force: undefined }]],
  ['POST', '/images/prune', { dryRun: true }, ['images.prune', { dryRun: true, name: undefined }]],
  ['POST', '/check', {}, ['images.check', { readData: undefined, readDataSubset: undefined, repair: undefined, from: undefined }], true],
  ['POST', '/images/publish', { ref: 'os@1' }, ['swarm.publish', 'os@1']],
  ['POST', '/subscriptions', { name: 'os' }, ['swarm.subscribe', 'os', 'auto']],
  ['POST', '/subscriptions/remove', { name: 'os' }, ['swarm.unsubscribe', 'os']],
  ['GET', '/images/plan?ref=os%401', undefined, ['swarm.plan', 'os@1']],
  ['GET', '/swarm', undefined, ['swarm.status']],
  ['GET', '/images/rollout', undefined, ['swarm.rollout', undefined]],
  ['GET', '/images/rollout?ref=os%401', undefined, ['swarm.rollout', 'os@1']],
  ['POST', '/exports', { ref: 'os@1' }, ['exports.serve', { ref: 'os@1', port: undefined, host: undefined, overlay: undefined, pull: undefined, fetchTimeoutMs: undefined }]],
  ['GET', '/exports', undefined, ['exports.list']],
  ['POST', '/exports/stop', { id: '127.0.0.1:10809' }, ['exports.unserve', '127.0.0.1:10809']],
  ['GET', '/overlays', undefined, ['exports.overlays']],
  ['POST', '/overlays/discard', { name: 'vm1' }, ['exports.discardOverlay', 'vm1']],
  ['POST', '/overlays/commit', { name: 'vm1', ref: 'os@2' }, ['exports.commitOverlay', { name: 'vm1', ref: 'os@2' }], true],
  ['POST', '/overlays/clone', { from: 'vm1', name: 'vm2' }, ['exports.cloneOverlay', { from: 'vm1', name: 'vm2' }]],
  ['POST', '/overlays/rebase', { name: 'vm1', ref: 'os@2', discardWrites: true }, ['exports.rebaseOverlay', { name: 'vm1', ref: 'os@2', discardWrites: true }]],
  ['GET', '/personal', undefined, ['personal.status']],
  ['GET', '/personal/log?user=alice', undefined, ['personal.log', 'alice']],
  ['POST', '/personal/snapshot', { user: 'alice' }, ['personal.snapshot', 'alice']],
  ['POST', '/personal/restore', { user: 'alice' }, ['personal.restore', { user: 'alice' }]]
]

async function send (
  url: string,
  method: string,
  path: string,
  options: { body?: string, type?: string, token?: string, host?: string } = {}
): Promise<{ status: number, text: string }> {
  return await new Promise((resolve, reject) => {
    const headers: Record<string, string> = { authorization: `Bearer ${options.token ?? TOKEN}` }
    if (options.body !== undefined) headers['content-type'] = options.type ?? 'application/json'
    if (options.host !== undefined) headers.host = options.host
    const req = httpRequest(`${url}/v1${path}`, { method, headers }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => { text += chunk })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text }) })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

const errorOf = (text: string): { code: string, kind: string } => (JSON.parse(text) as { error: { code: string, kind: string } }).error

describe('control server: each subsystem\'s routes over real HTTP on 127.0.0.1', () => {
  const calls: Call[] = []
  let server: ControlServer
  let url: string

  before(async () => {
    server = createControlServer({ api: recordingApi(calls), token: TOKEN })
    url = (await server.start()).url
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+$/)
  })
  after(async () => { await server.stop() })

  for (const [method, path, body, call, streamed] of ROUTES) {
    it(`${method} ${path} calls ${call[0]}`, async () => {
      calls.length = 0
      const res = await send(url, method, path, body === undefined ? {} : { body: JSON.stringify(body) })
      assert.equal(res.status, 200, res.text)
      assert.deepEqual(calls, [call])
      const answered = { answered: call[0].includes('.') ? call[0] : `.${call[0]}` }
      if (streamed === true) {
        const lines = res.text.trim().split('\n').map(l => JSON.parse(l) as unknown)
        assert.deepEqual(lines, [{ progress: { type: 'test:step', done: 1, total: 2 } }, { result: answered }])
      } else {
        assert.deepEqual(JSON.parse(res.text), answered)
      }
    })
  }

  it('refuses before any subsystem is called: no token 401, a rebound Host 421, a form body 415, bad JSON 400, a body over 1 MiB 400, an unknown route 404', async () => {
    calls.length = 0
    const port = new URL(url).port
    assert.equal((await send(url, 'GET', '/status', { token: 'wrong' })).status, 401)
    assert.equal((await send(url, 'GET', '/status', { host: `evil.example:${port}` })).status, 421)
    const form = await send(url, 'POST', '/images/rm', { body: 'ref=os@1', type: 'application/x-www-form-urlencoded' })
    assert.deepEqual([form.status, errorOf(form.text).code], [415, 'ERR_UNSUPPORTED_MEDIA_TYPE'])
    const bad = await send(url, 'POST', '/images/rm', { body: '{"ref":' })
    assert.deepEqual([bad.status, errorOf(bad.text).code], [400, 'ERR_BAD_REQUEST'])
    const big = await send(url, 'POST', '/images/rm', { body: JSON.stringify({ ref: 'x'.repeat(1024 * 1024 + 1) }) })
    assert.deepEqual([big.status, errorOf(big.text).code], [400, 'ERR_BAD_REQUEST'])
    const none = await send(url, 'GET', '/nothing')
    assert.deepEqual([none.status, errorOf(none.text).kind], [404, 'not-found'])
    assert.equal((await send(url, 'GET', '/events')).status, 404, 'no change source: no event stream')
    assert.deepEqual(calls, [])
  })
})
