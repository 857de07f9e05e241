import assert from 'node:assert/strict'
import { inflateSync } from 'node:zlib'
import { describe, it } from 'node:test'
import type { ImageVersionInfo, JobInfo, PersonalStatusInfo, StatusInfo, SwarmPullInfo } from '@cachecloud/control'
import { iconPng } from '../src/icons.js'
import { trayNotifications, trayView, type IconName, type MenuAction } from '../src/model.js'
import { pullFailures, pullStatuses } from '@cachecloud/daemon'

const version = (name: string, state: ImageVersionInfo['state'], cid = `cid-${name}`): ImageVersionInfo => ({
  name, version: 'v1', cid, state, size: 1 << 30, blockSize: 1 << 18, createdAt: '2026-01-01T00:00:00Z', parent: null, publisher: 'ed25519:x'
})
const job = (ref: string, state: JobInfo['state'], done: number, total: number, id = `job-${ref}-${state}`): JobInfo => ({
  id, kind: 'pull', ref, state, done, total, unit: 'bytes', rate: 0, etaSeconds: null, startedAt: '2026-01-01T00:00:00Z',
  ...(state === 'failed' ? { error: { code: 'ERR_PULL_FAILED', kind: 'network' as const, message: 'peer went away' } } : {})
})
const swarmPull = (ref: string, state: SwarmPullInfo['state'], bytesDone: number, bytesTotal: number): SwarmPullInfo => ({
  ref, cid: `cid-${ref}`, state, blocksDone: bytesDone, blocksTotal: bytesTotal, bytesDone, bytesTotal, lanBytes: bytesDone, wanBytes: 0, lanWireBytes: bytesDone, wanWireBytes: 0,
  peers: [], rate: 1, etaSeconds: 10, startedAt: '2026-01-01T00:00:00Z', ...(state === 'failed' ? { error: 'no peer offers os@v2' } : {})
})
const personal = (pendingSnapshots: number): PersonalStatusInfo => ({
  user: 'alice', folder: '/home/alice', snapshots: 3, pendingSnapshots, pendingBytes: 1000 * pendingSnapshots, lastSnapshot: '2026-01-01T00:00:00Z', lastScan: null, lastError: null
})
/** A status as the daemon answers it: its pulls and failures merged from the jobs and swarm pulls given, by the daemon's own functions. */
function status (patch: Partial<StatusInfo>): StatusInfo {
  const s: StatusInfo = {
    peerId: '12D3KooWtest', addresses: [], publisherKey: 'ed25519:x', trustedPublishers: [], dataDir: '/d', uptimeSeconds: 1,
    store: { blocks: 0, physicalBytes: 0, storedBytes: 0, logicalBytes: 0, recompression: { level: 15, pendingVersions: 0, savedBytes: 0 } },
    versions: [], jobs: [], pulls: [], pullFailures: [], connections: 1,
    paused: false, online: true, peersConfigured: 1, peersReachable: 1, pending: 0, personal: [], swarm: { site: '', subscriptions: [], pulls: [] }, exports: [], ...patch
  }
  return { ...s, pulls: pullStatuses(s.jobs, s.swarm.pulls), pullFailures: pullFailures(s.versions, s.jobs, s.swarm.pulls) }
}
const enabled = (s: StatusInfo | undefined): MenuAction[] => trayView(s).menu.filter(i => i.enabled).map(i => i.action)

describe('tray model', () => {
  const cases: Array<{ name: string, status: StatusInfo | undefined, icon: IconName, tooltip: RegExp, enabled: MenuAction[] }> = [
    { name: 'daemon down', status: undefined, icon: 'down', tooltip: /not running/, enabled: ['open', 'quit'] },
    { name: 'up to date', status: status({ versions: [version('os', 'complete')] }), icon: 'up-to-date', tooltip: /^CachePoint: Up to date$/, enabled: ['open', 'pause', 'sync', 'quit'] },
    { name: 'syncing', status: status({ versions: [version('os', 'pulling')], pending: 1, jobs: [job('os@v1', 'running', 25, 100)] }), icon: 'syncing', tooltip: /Syncing 25% \(os@v1\)/, enabled: ['open', 'pause', 'sync', 'quit'] },
    { name: 'paused', status: status({ paused: true, versions: [version('os', 'pulling')], pending: 1, jobs: [job('os@v1', 'paused', 25, 100)] }), icon: 'paused', tooltip: /Paused, 1 version pending/, enabled: ['open', 'resume', 'quit'] },
    { name: 'offline', status: status({ online: false, peersReachable: 0, versions: [version('os', 'pulling'), version('db', 'pulling')], pending: 2 }), icon: 'offline', tooltip: /Offline: no peer reachable, 2 versions pending/, enabled: ['open', 'pause', 'sync', 'quit'] },
    { name: 'error', status: status({ versions: [version('os', 'pulling')], pending: 1, jobs: [job('os@v1', 'failed', 25, 100)] }), icon: 'error', tooltip: /Pull of os@v1 failed: peer went away/, enabled: ['open', 'pause', 'sync', 'quit'] },
    { name: 'pending, nothing failed', status: status({ versions: [version('os', 'pulling')], pending: 1 }), icon: 'pending', tooltip: /1 version waiting/, enabled: ['open', 'pause', 'sync', 'quit'] },
    { name: 'an old failure of a version since completed', status: status({ versions: [version('os', 'complete')], jobs: [job('os@v1', 'failed', 1, 2), job('os@v1', 'done', 2, 2)] }), icon: 'up-to-date', tooltip: /Up to date/, enabled: ['open', 'pause', 'sync', 'quit'] }
  ]
  for (const c of cases) {
    it(`${c.name}: icon ${c.icon}, tooltip, enabled menu items`, () => {
      const view = trayView(c.status)
      assert.equal(view.icon, c.icon)
      assert.match(view.tooltip, c.tooltip)
      assert.deepEqual(view.menu.map(i => i.action), ['open', 'pause', 'resume', 'sync', 'quit'], 'the menu always has the same items')
      assert.deepEqual(enabled(c.status), c.enabled)
    })
  }

  it('a swarm pull (a subscription, no job) shows as syncing with its percent; a failed one as an error that retries', () => {
    const pulling = status({ versions: [version('os', 'pulling')], pending: 1, swarm: { site: 'paris', subscriptions: [{ name: 'os', policy: 'auto' }], pulls: [swarmPull('os@v1', 'pulling', 40, 100)] } })
    assert.equal(trayView(pulling).icon, 'syncing')
    assert.match(trayView(pulling).tooltip, /Syncing 40% \(os@v1\)/)
    const failed = status({ versions: [version('os', 'pulling')], pending: 1, swarm: { site: 'paris', subscriptions: [], pulls: [swarmPull('os@v1', 'failed', 40, 100)] } })
    assert.equal(trayView(failed).icon, 'error')
    assert.match(trayView(failed).tooltip, /os@v1 failed: no peer offers os@v2 \(retrying\)/)
    const done = status({ versions: [version('os', 'complete')], swarm: { site: 'paris', subscriptions: [], pulls: [swarmPull('os@v1', 'complete', 100, 100)] } })
    assert.equal(trayView(done).icon, 'up-to-date')
  })

  it('personal snapshots waiting for the data center are told, offline and up to date alike', () => {
    assert.match(trayView(status({ online: false, peersReachable: 0, personal: [personal(2)] })).tooltip, /Offline: no peer reachable, 2 snapshots waiting for the data center/)
    assert.match(trayView(status({ personal: [personal(1)] })).tooltip, /Up to date, 1 snapshot waiting for the data center/)
    assert.match(trayView(status({ personal: [personal(0)] })).tooltip, /^CachePoint: Up to date$/)
  })

  it('paused wins over offline and syncing; syncing wins over offline', () => {
    assert.equal(trayView(status({ paused: true, online: false, jobs: [job('os@v1', 'running', 1, 2)] })).icon, 'paused')
    assert.equal(trayView(status({ online: false, jobs: [job('os@v1', 'running', 1, 2)] })).icon, 'syncing')
  })

  it('notifies once when a version becomes ready and when a pull fails, not on the first snapshot', () => {
    const pulling = status({ versions: [version('os', 'pulling')], pending: 1, jobs: [job('os@v1', 'running', 1, 2, 'j1')] })
    assert.deepEqual(trayNotifications(undefined, pulling), [])
    const ready = status({ versions: [version('os', 'complete')], jobs: [job('os@v1', 'done', 2, 2, 'j1')] })
    assert.deepEqual(trayNotifications(pulling, ready).map(n => [n.kind, n.title]), [['version-ready', 'os@v1 is ready']])
    assert.deepEqual(trayNotifications(ready, ready), [])
    const failed = status({ versions: [version('os', 'pulling')], pending: 1, jobs: [job('os@v1', 'failed', 1, 2, 'j1')] })
    assert.deepEqual(trayNotifications(pulling, failed).map(n => [n.kind, n.title, n.body]), [['pull-failed', 'Sync of os@v1 failed', 'peer went away']])
    assert.deepEqual(trayNotifications(failed, undefined), [], 'the daemon going down is shown by the icon, not a notification')
  })

  it('draws every icon as a valid RGBA PNG at 1x and 2x, each state its own image', () => {
    const icons: IconName[] = ['up-to-date', 'syncing', 'pending', 'offline', 'paused', 'error', 'down']
    const seen = new Set<string>()
    for (const icon of icons) {
      for (const size of [16, 32]) {
        const png = iconPng(icon, size)
        assert.deepEqual([...png.subarray(0, 8)], [137, 80, 78, 71, 13, 10, 26, 10])
        assert.equal(png.readUInt32BE(16), size)
        assert.equal(png.readUInt32BE(20), size)
        const idat = png.indexOf('IDAT')
        const pixels = inflateSync(png.subarray(idat + 4, idat + 4 + png.readUInt32BE(idat - 4)))
        assert.equal(pixels.byteLength, size * (size * 4 + 1))
        seen.add(png.toString('base64'))
      }
    }
    assert.equal(seen.size, icons.length * 2)
  })
})
