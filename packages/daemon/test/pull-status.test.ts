import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ImageVersionInfo, JobInfo, SwarmPullInfo } from '@cachecloud/control'
import { pullFailures, pullStatuses } from '../src/pull-status.js'

// One status per version however it arrives, and which failed pulls the page (and the tray) still shows: issue 13 item 13.

const version = (name: string, v: string, state: ImageVersionInfo['state']): ImageVersionInfo => ({
  name, version: v, cid: `cid-${name}-${v}`, state, size: 1, blockSize: 1, createdAt: '2026-01-01T00:00:00Z', parent: null, publisher: 'ed25519:x'
})
const job = (id: string, ref: string, state: JobInfo['state'], finishedAt: string): JobInfo => ({
  id, kind: 'pull', ref, state, done: 0, total: 1, unit: 'bytes', rate: 0, etaSeconds: null, startedAt: finishedAt, finishedAt,
  ...(state === 'failed' ? { error: { code: 'ERR_VERSION_UNAVAILABLE', kind: 'network' as const, message: `none of the 1 peers offers ${ref}` } } : {})
})
const swarm = (ref: string, state: SwarmPullInfo['state'], startedAt: string): SwarmPullInfo => ({
  ref, cid: `cid-${ref}`, state, blocksDone: 0, blocksTotal: 1, bytesDone: 0, bytesTotal: 1, lanBytes: 0, wanBytes: 0, lanWireBytes: 0, wanWireBytes: 0,
  peers: [], rate: 0, etaSeconds: null, startedAt, ...(state === 'failed' ? { error: 'peers gone' } : {})
})
interface Parts { versions?: ImageVersionInfo[], jobs?: JobInfo[], swarm?: SwarmPullInfo[] }
const failures = (p: Parts): ReturnType<typeof pullFailures> => pullFailures(p.versions ?? [], p.jobs ?? [], p.swarm ?? [])

describe('failed pulls that still matter', () => {
  it('a failure of a ref never catalogued (a typo) counts', () => {
    const [failure] = failures({ versions: [version('os', 'v1', 'complete')], jobs: [job('j1', 'ghost@1', 'failed', '2026-01-01T00:00:00Z')] })
    assert.equal(failure?.id, 'job:j1')
    assert.equal(failure?.ref, 'ghost@1')
  })

  it('a swarm failure is superseded by a later successful pull job of the same ref, even while the version is not complete yet', () => {
    assert.deepEqual(failures({
      versions: [version('os', 'v2', 'pulling')],
      swarm: [swarm('os@v2', 'failed', '2026-01-01T00:00:00Z')],
      jobs: [job('j2', 'os@v2', 'done', '2026-01-01T01:00:00Z')]
    }), [])
  })

  it('of several failures of one ref only the latest counts', () => {
    assert.deepEqual(failures({ jobs: [job('old', 'ghost@1', 'failed', '2026-01-01T00:00:00Z'), job('new', 'ghost@1', 'failed', '2026-01-01T02:00:00Z')] }).map(f => f.id), ['job:new'])
  })

  it('a failure after the last success still counts', () => {
    assert.deepEqual(failures({ jobs: [job('ok', 'db@1', 'done', '2026-01-01T00:00:00Z'), job('bad', 'db@1', 'failed', '2026-01-01T03:00:00Z')] }).map(f => f.id), ['job:bad'])
  })
})

describe('one pull status per ref', () => {
  it('a running job counts over the swarm; otherwise the swarm pull', () => {
    const running = { ...job('j', 'os@v2', 'running', '2026-01-01T01:00:00Z'), done: 5, total: 10 }
    const [both] = pullStatuses([running], [swarm('os@v2', 'failed', '2026-01-01T00:00:00Z')])
    assert.deepEqual([both.via, both.state, both.done], ['job', 'running', 5])
    const [swarmOnly] = pullStatuses([job('old', 'os@v2', 'failed', '2026-01-01T00:00:00Z')], [swarm('os@v2', 'pulling', '2026-01-01T01:00:00Z')])
    assert.deepEqual([swarmOnly.via, swarmOnly.state], ['swarm', 'running'])
    assert.equal(pullStatuses([job('x', 'db@1', 'failed', '2026-01-01T00:00:00Z')], [])[0].error?.kind, 'network', 'a job\'s error keeps its kind')
    assert.deepEqual(pullStatuses([{ ...job('i', 'db@1', 'done', '2026-01-01T00:00:00Z'), kind: 'import' }], []), [], 'imports are not pulls')
  })
})
