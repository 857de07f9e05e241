import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { ERROR_KINDS } from '@cachecloud/core'
import { createUiServer, type UiServer } from '../src/index.js'

/** The UI server's refusals carry code, kind and message, as the control API's do, with the status of the kind. */
describe('status page server: error bodies', () => {
  let dir: string
  let server: UiServer
  let url: string

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ui-errors-'))
    server = createUiServer({ dataDir: dir, port: 0 })
    url = (await server.start()).url
  })
  after(async () => {
    await server.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const body = async (res: Response): Promise<{
    error: {
      code: string,
      kind: string,
      message: string
    }
  }> => await res.json() as { error: { code: string, kind: string, message: string } }

  it('an unknown route: not-found, 404, with its kind', async () => {
    const res = await fetch(new URL('/v1/nothing-here', url))
    const { error } = await body(res)
    assert.equal(error.kind, 'not-found')
    assert.equal(res.status, ERROR_KINDS['not-found'].httpStatus)
    assert.match(error.code, /^ERR_[A-Z_]+$/)
    assert.match(error.message, /no route GET \/v1\/nothing-here/)
  })

  it('a proxied route without a session: unauthorized, 401, with its kind', async () => {
    const res = await fetch(new URL('/v1/status', url))
    const { error } = await body(res)
    assert.equal(res.status, 401)
    assert.equal(error.kind, 'unauthorized')
    assert.match(error.message, /not signed in/)
  })
})
