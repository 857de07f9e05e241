import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { ProgressEvent } from '@cachecloud/core'
import { TempDirs } from '@cachecloud/test-utils'
import { codeOf, request, startNode, type TestNode } from './helpers.js'

const MIB = 1024 * 1024

/**
 * One real daemon, its real control server and client: every subsystem's routes
 * (images, swarm, exports, personal) and the node's own reach the subsystem and
 * answer as the CLI, the tray and the status page expect.
 */
describe('a daemon of named subsystems, through its control API', () => {
  const dirs = new TempDirs()
  let node: TestNode
  let v1: Buffer
  let v2: Buffer

  before(async () => {
    node = await startNode(dirs)
    v1 = Buffer.concat([randomBytes(MIB), Buffer.alloc(MIB)])
    v2 = Buffer.from(v1)
    randomBytes(1000).copy(v2, 300_000) // the second 256 KiB block changes
    await writeFile(join(node.dataDir, 'v1.raw'), v1)
    await writeFile(join(node.dataDir, 'v2.raw'), v2)
  })

  after(async () => {
    await node?.daemon.stop()
    await dirs.removeAll()
  })

  it('images: import streams progress, list, diff, export writes the same bytes', async () => {
    const events: ProgressEvent[] = []
    const imported = await node.client.importImage({ file: join(node.dataDir, 'v1.raw'), name: 'os', version: '1' }, (e) => { events.push(e) })
    assert.equal(imported.ref, 'os@1')
    assert.equal(imported.size, 2 * MIB)
    assert.ok(events.length > 0 && events.at(-1)?.done === events.at(-1)?.total, 'progress reached its total')
    await node.client.importImage({ file: join(node.dataDir, 'v2.raw'), name: 'os', version: '2' }, () => {})
    assert.deepEqual((await node.client.images()).map(v => `${v.name}@${v.version} ${v.state}`).sort(), ['os@1 complete', 'os@2 complete'])
    assert.deepEqual(await node.daemon.images.list(), await node.client.images(), 'the in-process subsystem and the route agree')
    const diff = await node.client.diff('os@1', 'os@2')
    assert.equal(diff.changedBlocks, 1)
    assert.deepEqual(diff.changed, [1])
    const out = join(node.dataDir, 'out.raw')
    const exported = await node.client.exportImage({ ref: 'os@2', file: out }, () => {})
    assert.equal(exported.size, 2 * MIB)
    assert.ok((await readFile(out)).equals(v2))
    const job = (await node.client.status()).jobs.find(j => j.kind === 'export')
    assert.equal(job?.state, 'done')
    assert.equal(job?.etaSeconds, 0, 'a finished job has ETA 0')
  })

  it('images: check, prune (dry run), rm and gc', async () => {
    const check = await node.client.check({}, () => {})
    assert.equal(check.ok, true, check.problems.join('; '))
    const prune = await node.client.prune({ dryRun: true })
    assert.equal(prune.dryRun, true)
    assert.deepEqual(prune.removed, [], 'no retention policy: nothing to remove')
    const removed = await node.client.removeVersion({ ref: 'os@1' })
    assert.equal(removed.ref, 'os@1')
    assert.deepEqual((await node.client.images()).map(v => v.version), ['2'])
    const gc = await node.client.gc()
    assert.equal(gc.removed, 0, 'rm ran gc already')
    assert.equal(await codeOf(node.client.removeVersion({ ref: 'os@1' })), 'ERR_VERSION_NOT_FOUND')
  })

  it('swarm: subscriptions kept in the config file, plan, publish, status, rollout', async () => {
    assert.deepEqual(await node.client.subscribe('os', 'manual'), [{ name: 'os', policy: 'manual' }])
    const onDisk = JSON.parse(await readFile(join(node.dataDir, 'config.json'), 'utf8')) as { subscriptions?: unknown }
    assert.deepEqual(onDisk.subscriptions, [{ name: 'os', policy: 'manual' }])
    const status = await node.client.swarmStatus()
    assert.deepEqual(status.subscriptions, [{ name: 'os', policy: 'manual' }])
    assert.equal(status.site, '')
    const plan = await node.client.plan('os@2')
    assert.equal(plan.ref, 'os@2')
    const published = await node.client.publish('os@2')
    assert.equal(published.ref, 'os@2')
    assert.equal(typeof published.topic, 'string')
    assert.ok(Array.isArray(await node.client.rollout()))
    assert.deepEqual(await node.client.unsubscribe('os'), [])
    assert.deepEqual(await node.daemon.swarm.status(), await node.client.swarmStatus())
  })

  it('exports: serve on a Unix socket, list, stop; overlays', async () => {
    const served = await node.client.serve({ ref: 'os@2', pull: false })
    assert.equal(served.ref, 'os@2')
    assert.ok(served.socket !== null && served.uri.startsWith('nbd+unix://'), served.uri)
    assert.deepEqual((await node.client.exports()).map(e => e.id), [served.id])
    assert.deepEqual((await node.client.status()).exports.map(e => e.id), [served.id])
    assert.equal((await node.client.unserve(served.id)).id, served.id)
    assert.deepEqual(await node.client.exports(), [])
    assert.deepEqual(await node.client.overlays(), [])
    assert.equal(await codeOf(node.client.discardOverlay('none-such')), 'ERR_OVERLAY_NOT_FOUND')
  })

  it('personal: no folders configured; a user not configured here is not found', async () => {
    assert.deepEqual(await node.client.personalStatus(), [])
    assert.equal(await codeOf(node.client.personalLog('alice')), 'ERR_USER_NOT_FOUND')
    assert.equal(await codeOf(node.client.personalSnapshot('alice')), 'ERR_USER_NOT_FOUND')
  })

  it('the node: status, peers, pause, sync refused while paused, resume', async () => {
    assert.deepEqual(await node.client.peers(), [])
    assert.deepEqual(await node.client.pause(), { paused: true, stopped: [] })
    assert.equal((await node.client.status()).paused, true)
    assert.equal(await codeOf(node.client.sync()), 'ERR_PAUSED')
    assert.equal(await codeOf(node.client.pull({ ref: 'os@9', from: [node.address] }, () => {})), 'ERR_PAUSED')
    const resumed = await node.client.resume()
    assert.equal(resumed.paused, false)
    assert.equal((await node.client.status()).paused, false)
  })

  it('refuses malformed bodies with 400 before any subsystem sees them (a null body too)', async () => {
    for (const [path, body] of [
      ['/subscriptions', 'null'],
      ['/subscriptions', '{"name":"os","policy":"sometimes"}'],
      ['/images/publish', '[]'],
      ['/images/rm', '{"ref":""}'],
      ['/check', '{"from":"not a list"}'],
      ['/exports', '{"ref":"os@2","port":70000}'],
      ['/personal/restore', '{"user":"alice","to":"relative/dir"}'],
      ['/images/import', '{"file":"/x","name":"os","version":"3","compressionLevel":20}']
    ] as const) {
      const { status, json } = await request(node, 'POST', path, body)
      assert.equal(status, 400, `${path} ${body}: ${JSON.stringify(json)}`)
      assert.equal((json as { error: { code: string } }).error.code, 'ERR_BAD_REQUEST')
    }
    assert.equal((await request(node, 'GET', '/images/plan')).status, 400)
    assert.equal((await request(node, 'GET', '/personal/log?user=')).status, 400)
  })

  it('a stopped daemon has no subsystems: asking for one is a clear daemon error', async () => {
    const stopped = await startNode(dirs)
    await stopped.daemon.stop()
    assert.throws(() => stopped.daemon.images, (err: Error) => (err as { code?: string }).code === 'ERR_DAEMON_NOT_STARTED')
  })
})
