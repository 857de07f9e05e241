import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseBackendSpec } from '../src/index.js'

describe('--blocks: a backend named on the command line', () => {
  it('names each backend', () => {
    assert.deepEqual(parseBackendSpec('local'), { kind: 'local' })
    assert.deepEqual(parseBackendSpec('shared-fs:/mnt/nas/blocks'), { kind: 'shared-fs', path: '/mnt/nas/blocks' })
    assert.deepEqual(parseBackendSpec('s3://dcstore-blocks/archive?endpoint=http%3A%2F%2F127.0.0.1%3A8080&region=eu-1&lock-days=3650&lock-mode=GOVERNANCE&create=1'), {
      kind: 's3', bucket: 'dcstore-blocks', prefix: 'archive/', endpoint: 'http://127.0.0.1:8080', region: 'eu-1', lockDays: 3650, lockMode: 'GOVERNANCE', createBucket: true
    })
    assert.deepEqual(parseBackendSpec('s3://dcstore-blocks'), { kind: 's3', bucket: 'dcstore-blocks' })
  })

  it('refuses what is not one, in one line (ERR_BACKEND_CONFIG)', () => {
    for (const spec of ['nfs:/x', 'shared-fs:relative/path', 's3://bucket/?endpont=http://x', 's3://bucket/?lock-mode=forever', '']) {
      assert.throws(() => parseBackendSpec(spec), (err: Error & { code?: string }) => err.code === 'ERR_BACKEND_CONFIG' && !err.message.includes('\n'), spec)
    }
  })
})
