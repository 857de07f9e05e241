import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, before, describe, it } from 'node:test'
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { cidOf } from '@cachecloud/core'
import { createBackend, type BackendConfig, type BlockBackend } from '../src/index.js'
import { blockBackendSuite } from './backend-suite.js'
import { startFlakyProxy } from './flaky-proxy.js'
import { replicationOnBackend } from './backend-replication.js'
import { startSwift, swiftMissing, type SwiftServer } from './swift.js'

// The S3 backend against a real OpenStack Swift with s3api (Debian 12, started
// here on 127.0.0.1): skipped with the reason when Swift is not installed,
// a failure in CI (.ci/run installs it).
const missing = await swiftMissing()
if (missing !== undefined && process.env.CI === 'true') throw new Error(`Swift is not installed: ${missing}`)
const swift: SwiftServer | undefined = missing === undefined ? await startSwift() : undefined
after(async () => { await swift?.stop() })

let buckets = 0
const configFor = (bucket: string, endpoint = swift!.endpoint): BackendConfig => ({
  kind: 's3', bucket, endpoint, accessKeyId: swift!.accessKeyId, secretAccessKey: swift!.secretAccessKey, createBucket: true, prefix: 'dc/'
})
const rawClient = (): S3Client => new S3Client({ endpoint: swift!.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: swift!.accessKeyId, secretAccessKey: swift!.secretAccessKey }, requestChecksumCalculation: 'WHEN_REQUIRED' })

blockBackendSuite('S3 (Swift s3api)', async () => {
  const bucket = `dcstore-contract-${++buckets}`
  const make = async (): Promise<BlockBackend> => { const b = createBackend(configFor(bucket), '/nonexistent'); await b.start(); return b }
  return {
    backend: await make(),
    reopen: make,
    // a rotten object: other bytes under the block's key
    damage: async (user, cid) => { const c = rawClient(); await c.send(new PutObjectCommand({ Bucket: bucket, Key: `dc/${user}/${cid.toString()}`, Body: randomBytes(100) })); c.destroy() },
    cleanup: async () => {}
  }
}, { skip: missing ?? false })

describe('S3 backend on Swift', { skip: missing ?? false }, () => {
  let b: BlockBackend
  before(async () => { b = createBackend(configFor('dcstore-s3-extra'), '/nonexistent'); await b.start() })
  after(async () => { await b?.stop() })

  it('puts a block past S3_MULTIPART_BYTES in parts and reads it back whole', async () => {
    const bytes = randomBytes(12 * 1024 * 1024)
    const cid = cidOf(bytes)
    assert.equal(await b.put('alice', cid, bytes), true)
    assert.equal(await b.put('alice', cid, bytes), false)
    assert.ok(Buffer.from(await b.get('alice', cid)).equals(bytes))
    const c = rawClient()
    const head = await c.send(new HeadObjectCommand({ Bucket: 'dcstore-s3-extra', Key: `dc/alice/${cid.toString()}` }))
    c.destroy()
    assert.match(head.ETag ?? '', /-3"?$/, 'a multipart object of 3 parts') // 5 + 5 + 2 MiB
  })

  it('retries with backoff through connections the service drops', async () => {
    const proxy = await startFlakyProxy({ host: '127.0.0.1', port: Number(new URL(swift!.endpoint).port) }, 3)
    const flaky = createBackend(configFor('dcstore-s3-extra', `http://127.0.0.1:${proxy.port}`), '/nonexistent')
    try {
      await flaky.start()
      const bytes = randomBytes(5000)
      const cid = cidOf(bytes)
      assert.equal(await flaky.put('bob', cid, bytes), true)
      assert.ok(Buffer.from(await flaky.get('bob', cid)).equals(bytes))
      assert.ok(proxy.connections() > 3)
    } finally { await flaky.stop(); await proxy.stop() }
  })

  it('a service that keeps failing is BackendUnavailableError after the retries', async () => {
    const proxy = await startFlakyProxy({ host: '127.0.0.1', port: Number(new URL(swift!.endpoint).port) }, Infinity)
    const down = createBackend(configFor('dcstore-s3-extra', `http://127.0.0.1:${proxy.port}`), '/nonexistent')
    try {
      const bytes = randomBytes(100)
      await assert.rejects(down.start(), { code: 'ERR_BACKEND_UNAVAILABLE' })
      await assert.rejects(down.put('bob', cidOf(bytes), bytes), { code: 'ERR_BACKEND_UNAVAILABLE' })
    } finally { await down.stop(); await proxy.stop() }
  })

  it('object lock is used only where the bucket offers it: Swift\'s s3api does not, and the backend says so', async () => {
    const locked = createBackend({ ...configFor('dcstore-s3-lock'), lockDays: 30 } as BackendConfig, '/nonexistent')
    try {
      await locked.start()
      assert.equal(locked.worm, false)
      const bytes = randomBytes(100)
      assert.equal(await locked.put('carol', cidOf(bytes), bytes), true)
    } finally { await locked.stop() }
  })

  it('refuses a bucket name S3 would refuse, before any request', () => {
    assert.throws(() => createBackend({ kind: 's3', bucket: 'ab' }, '/x'), { code: 'ERR_BACKEND_CONFIG' })
    assert.throws(() => createBackend({ kind: 's3', bucket: 'dcstore', lockDays: 0 }, '/x'), { code: 'ERR_BACKEND_CONFIG' })
  })
})

replicationOnBackend('S3 (Swift s3api)', () => configFor('dcstore-replication'), { skip: missing ?? false })
