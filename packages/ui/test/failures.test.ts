import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ImageVersionInfo, JobInfo, StatusInfo, SwarmPullInfo } from '@cachecloud/control'
import { pullFailures, summarize } from '../src/index.js'

// Which failed pulls the page (and the tray) still shows: issue 13 item 13.

const version = (name: string, v: string, state: ImageVersionInfo['state']): ImageVersionInfo => ({
  name, version: v, cid: `cid-${name}-${v}`, state, size: 1, blockSize: 1, createdAt: '2026-01-01T00:00:00Z', parent: null, publisher: 'ed25519:x'
})
const job = (id: string, ref: string, state: JobInfo['state'], finishedAt: string): JobInfo => ({
  id, kind: 'pull', ref, state, done: 0, total: 1, unit: 'bytes', rate: 0, etaSeconds: null, startedAt: finishedAt, finishedAt,
  ...(state === 'failed' ? { error: { code: 'ERR_VERSION_UNAVAILABLE', message: `none of the 1 peers offers ${ref}` } } : {})
})
const swarm = (ref: string, state: SwarmPullInfo['state'], startedAt: string): SwarmPullInfo => ({
  ref, cid: `cid-${ref}`, state, blocksDone: 0, blocksTotal: 1, bytesDone: 0, bytesTotal: 1, lanBytes: 0, wanBytes: 0, lanWireBytes: 0, wanWireBytes: 0,
  peers: [], rate: 0, etaSeconds: null, startedAt, ...(state === 'failed' ? { error: 'peers gone' } : {})
})
const status = (patch: Partial<StatusInfo>): StatusInfo => ({
  peerId: 'p', addresses: [], publisherKey: 'ed25519:x', trustedPublishers: [], dataDir: '/d', uptimeSeconds: 1,
  store: { blocks: 0, physicalBytes: 0, logicalBytes: 0 }, versions: [], jobs: [], connections: 1,
  paused: false, online: true, peersConfigured: 1, peersReachable: 1, pending: 0, personal: [], swarm: { site: '', subscriptions: [], pulls: [] }, exports: [], ...patch
})

describe('failed pulls on the status page', () => {
  it('a failure of a ref never catalogued (a typo) stays until dismissed, then the node is up to date', () => {
    const s = status({ versions: [version('os', 'v1', 'complete')], jobs: [job('j1', 'ghost@1', 'failed', '2026-01-01T00:00:00Z')] })
    const [failure] = pullFailures(s)
    assert.equal(failure?.id, 'job:j1')
    assert.equal(summarize(s).state, 'error')
    assert.equal(summarize(s, { dismissed: new Set(['job:j1']) }).state, 'up-to-date')
  })

  it('a swarm failure is superseded by a later successful pull job of the same ref, even while the version is not complete yet', () => {
    const s = status({
      versions: [version('os', 'v2', 'pulling')],
      pending: 1,
      swarm: { site: '', subscriptions: [], pulls: [swarm('os@v2', 'failed', '2026-01-01T00:00:00Z')] },
      jobs: [job('j2', 'os@v2', 'done', '2026-01-01T01:00:00Z')]
    })
    assert.deepEqual(pullFailures(s), [])
  })

  it('of several failures of one ref only the latest counts: dismissing it does not bring back the older one', () => {
    const s = status({ jobs: [job('old', 'ghost@1', 'failed', '2026-01-01T00:00:00Z'), job('new', 'ghost@1', 'failed', '2026-01-01T02:00:00Z')] })
    assert.deepEqual(pullFailures(s).map(f => f.id), ['job:new'])
    assert.equal(summarize(s, { dismissed: new Set(['job:new']) }).state, 'up-to-date')
  })

  it('a failure after the last success still counts; a new failure shows again after an older one was dismissed', () => {
    const s = status({ jobs: [job('ok', 'db@1', 'done', '2026-01-01T00:00:00Z'), job('bad', 'db@1', 'failed', '2026-01-01T03:00:00Z')] })
    assert.deepEqual(pullFailures(s).map(f => f.id), ['job:bad'])
    assert.equal(summarize(s, { dismissed: new Set(['job:older']) }).state, 'error')
  })
})
