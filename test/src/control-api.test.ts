import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { API_PREFIX, createControlClient, readEndpoint, type ControlEndpoint } from '@cachecloud/control'
import { createTestCluster, type TestCluster } from './nodes.js'

describe('control API of a real daemon', () => {
  let cluster: TestCluster
  let endpoint: ControlEndpoint

  before(async () => {
    cluster = await createTestCluster('control')
    const node = await cluster.start('node')
    endpoint = await readEndpoint(node.dataDir)
  })

  after(async () => { await cluster.close() })

  it('listens on loopback only and refuses a missing or wrong token', async () => {
    assert.match(endpoint.url, /^http:\/\/127\.0\.0\.1:\d+$/)
    const none = await fetch(`${endpoint.url}${API_PREFIX}/status`)
    assert.equal(none.status, 401)
    const wrong = createControlClient({ ...endpoint, token: 'x'.repeat(endpoint.token.length) })
    await assert.rejects(wrong.status(), (err: Error & { code?: string }) => err.code === 'ERR_UNAUTHORIZED')
    const right = createControlClient(endpoint)
    assert.match((await right.status()).peerId, /^12D3Koo/)
  })

  it('answers malformed requests with 400 and a one-line reason', async () => {
    const response = await fetch(`${endpoint.url}${API_PREFIX}/images/import`, {
      method: 'POST', headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' }, body: '{"file": 42}'
    })
    assert.equal(response.status, 400)
    const body = await response.json() as { error: { code: string, message: string } }
    assert.equal(body.error.code, 'ERR_BAD_REQUEST')
    assert.match(body.error.message, /"file" must be a non-empty string/)
    const notJson = await fetch(`${endpoint.url}${API_PREFIX}/images/pull`, {
      method: 'POST', headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' }, body: 'pull please'
    })
    assert.equal(notJson.status, 400)
  })
})
