import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { PullFailureInfo, StatusInfo } from '@cachecloud/control'
import { summarize } from '../src/index.js'

// Which failed pulls the page (and the tray) still shows: issue 13 item 13.

const failure = (id: string, ref: string): PullFailureInfo => ({ id, ref, message: `none of the 1 peers offers ${ref}`, at: '2026-01-01T00:00:00Z' })
const status = (patch: Partial<StatusInfo>): StatusInfo => ({
  peerId: 'p', addresses: [], publisherKey: 'ed25519:x', trustedPublishers: [], dataDir: '/d', uptimeSeconds: 1,
  store: { blocks: 0, physicalBytes: 0, storedBytes: 0, logicalBytes: 0, recompression: { level: 15, pendingVersions: 0, savedBytes: 0 } },
  versions: [], jobs: [], pulls: [], pullFailures: [], connections: 1,
  paused: false, online: true, peersConfigured: 1, peersReachable: 1, pending: 0, personal: [], swarm: { site: '', subscriptions: [], pulls: [] }, exports: [], ...patch
})

describe('failed pulls on the status page', () => {
  it('a failure the daemon reports makes the state error until dismissed, then the node is up to date', () => {
    const s = status({ pullFailures: [failure('j1', 'ghost@1')] })
    assert.equal(summarize(s).state, 'error')
    assert.match(summarize(s).text, /^Pull of ghost@1 failed: none of the 1 peers offers ghost@1$/)
    assert.equal(summarize(s, { dismissed: new Set(['j1']) }).state, 'up-to-date')
  })

  it('dismissing the newest failure shows the next one still reported', () => {
    const s = status({ pullFailures: [failure('new', 'a@1'), failure('other', 'b@1')] })
    assert.match(summarize(s, { dismissed: new Set(['new']) }).text, /b@1/)
  })
})
