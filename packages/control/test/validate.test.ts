import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { BadRequestError } from '../src/errors.js'
import * as validate from '../src/validate.js'

/** Each refusal is a BadRequestError (400, exit 2) of one line naming the field. */
function refuses (run: () => unknown, pattern: RegExp): void {
  assert.throws(run, (err: Error) => {
    assert.ok(err instanceof BadRequestError, String(err))
    assert.equal(err.message.split('\n').length, 1)
    assert.match(err.message, pattern)
    return true
  })
}

describe('control API request bodies', () => {
  it('import: file, name and version required; block size, level and format bounded', () => {
    assert.deepEqual(validate.importRequest({ file: '/a.raw', name: 'os', version: '1', compressionLevel: 0 }), { file: '/a.raw', name: 'os', version: '1', blockSize: undefined, compressionLevel: 0, format: undefined })
    refuses(() => validate.importRequest(null), /must be a JSON object/)
    refuses(() => validate.importRequest([]), /must be a JSON object/)
    refuses(() => validate.importRequest({ name: 'os', version: '1' }), /"file" must be a non-empty string/)
    refuses(() => validate.importRequest({ file: '/a', name: 'os', version: '1', blockSize: 0 }), /"blockSize" must be a positive integer/)
    refuses(() => validate.importRequest({ file: '/a', name: 'os', version: '1', compressionLevel: 20 }), /"compressionLevel" must be an integer from 0 to 19/)
    refuses(() => validate.importRequest({ file: '/a', name: 'os', version: '1', format: 'x'.repeat(41) }), /"format" must be a disk format name/)
  })

  it('pull and export', () => {
    assert.deepEqual(validate.pullRequest({ ref: 'os@1', from: ['/ip4/127.0.0.1/tcp/1'] }), { ref: 'os@1', from: ['/ip4/127.0.0.1/tcp/1'] })
    refuses(() => validate.pullRequest({ ref: 'os@1', from: [1] }), /"from" must be a list of multiaddrs/)
    refuses(() => validate.exportRequest({ ref: 'os@1', file: '/o', overwrite: 'yes' }), /"overwrite" must be true or false/)
  })

  it('rm, prune and check: refs and peer lists bounded', () => {
    assert.deepEqual(validate.removeRequest({ ref: 'os@1', force: true }), { ref: 'os@1', force: true })
    refuses(() => validate.removeRequest({ ref: 'x'.repeat(301) }), /"ref" must be NAME@VERSION/)
    refuses(() => validate.removeRequest({ ref: 'os@1', force: 1 }), /"force" must be true or false/)
    assert.deepEqual(validate.pruneRequest({ dryRun: true }), { dryRun: true, name: undefined })
    refuses(() => validate.pruneRequest({ name: '' }), /"name" must be an image name/)
    assert.deepEqual(validate.checkRequest({ readData: true, readDataSubset: '1/4' }), { readData: true, readDataSubset: '1/4', repair: undefined, from: undefined })
    refuses(() => validate.checkRequest({ from: Array.from({ length: 65 }, () => '/ip4/127.0.0.1/tcp/1') }), /at most 64 multiaddrs/)
    refuses(() => validate.checkRequest({ readDataSubset: 'x'.repeat(33) }), /"readDataSubset" must be N\/T or P%/)
  })

  it('string fields of any body (null, a list, a number) and subscriptions', () => {
    assert.equal(validate.field({ ref: 'os@1' }, 'ref'), 'os@1')
    for (const body of [null, [], 7, 'ref', {}]) refuses(() => validate.field(body, 'ref'), /^"ref" must be a non-empty string$/)
    assert.deepEqual(validate.subscribeRequest({ name: 'os' }), { name: 'os', policy: 'auto' })
    assert.deepEqual(validate.subscribeRequest({ name: 'os', policy: 'manual' }), { name: 'os', policy: 'manual' })
    refuses(() => validate.subscribeRequest(null), /"name" must be a non-empty string/)
    refuses(() => validate.subscribeRequest({ name: 'os', policy: 'sometimes' }), /"policy" must be auto or manual/)
  })

  it('personal restore: a time, an absolute directory', () => {
    assert.deepEqual(validate.personalRestoreRequest({ user: 'alice', at: '2026-11-20T12:00:00Z', to: '/tmp/r' }), { user: 'alice', at: '2026-11-20T12:00:00Z', to: '/tmp/r' })
    refuses(() => validate.personalRestoreRequest({ user: 'alice', at: 'yesterday' }), /"at" must be a time/)
    refuses(() => validate.personalRestoreRequest({ user: 'alice', to: 'rel' }), /"to" must be an absolute directory path/)
    refuses(() => validate.personalSnapshotRequest({}), /"user" must be a non-empty string/)
  })
})
