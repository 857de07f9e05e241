import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  CacheCloudError, ERROR_KINDS, exitCodeFor, FileExistsError, httpStatusFor, InvalidVersionRefError, isDiskFull,
  isErrorKind, isNotFound, isPaused, kindOf, type ErrorKind
} from '../src/index.js'

function errno (code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something`), { code })
}

describe('error kinds', () => {
  it('gives every kind one exit code and one HTTP status; the exit codes are 1..12 without gaps', () => {
    const codes = new Set(Object.values(ERROR_KINDS).map(k => k.exitCode))
    assert.deepEqual([...codes].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12])
    for (const [kind, { httpStatus }] of Object.entries(ERROR_KINDS)) {
      assert.ok(httpStatus >= 400 && httpStatus <= 599, `${kind}: ${httpStatus}`)
      assert.ok(isErrorKind(kind))
    }
    assert.equal(isErrorKind('toString'), false, 'not a kind because Object.prototype has it')
    assert.equal(isErrorKind('nope'), false)
  })

  it('takes the kind of a CacheCloudError, a copy of one (a remote error), a few errno codes, else internal', () => {
    assert.equal(kindOf(new InvalidVersionRefError('x')), 'usage')
    assert.equal(exitCodeFor(new InvalidVersionRefError('x')), 2)
    assert.equal(httpStatusFor(new FileExistsError('x')), 409)
    assert.equal(exitCodeFor(new FileExistsError('x')), 5)
    const copy = Object.assign(new Error('rebuilt elsewhere'), { code: 'ERR_SOMETHING', kind: 'paused' })
    assert.equal(kindOf(copy), 'paused')
    assert.equal(isPaused(copy), true)
    assert.equal(kindOf(Object.assign(new Error('x'), { code: 'ERR_X', kind: 'bogus' })), 'internal', 'an unknown kind is not trusted')
    assert.equal(exitCodeFor(errno('ENOENT')), 4)
    assert.equal(isNotFound(errno('ENOENT')), true)
    assert.equal(exitCodeFor(errno('ENOSPC')), 8)
    assert.equal(isDiskFull(errno('EDQUOT')), true)
    assert.equal(exitCodeFor(errno('EACCES')), 1)
    assert.equal(exitCodeFor(new Error('plain')), 1)
    assert.equal(httpStatusFor(new Error('plain')), 500)
    assert.equal(exitCodeFor('a string'), 1)
    assert.equal(exitCodeFor(undefined), 1)
  })

  it('keeps name, code and kind on a subclass', () => {
    class ExampleError extends CacheCloudError {
      static override name = 'ExampleError'
      constructor (message: string, kind: ErrorKind) { super(message, 'ERR_EXAMPLE', kind) }
    }
    const err = new ExampleError('m', 'in-use')
    assert.equal(err.name, 'ExampleError')
    assert.equal(err.code, 'ERR_EXAMPLE')
    assert.equal(err.kind, 'in-use')
    assert.equal(exitCodeFor(err), 11)
    assert.equal(httpStatusFor(err), 409)
  })
})
