import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { PersonalRestoreResultInfo, PersonalSnapshotInfo, PersonalSnapshotResultInfo, PersonalStatusInfo } from '@cachecloud/control'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'
import { DCSTORE_CLI, freePort, launch, run, treeHashes, type Proc } from './personal-procs.js'
import { cli, cliJson } from './cli-run.js'
import { until } from '@cachecloud/test-utils'

// issue 13 item 5: a new machine without the user's key file, through real
// `cachepoint daemon` processes and a real `dcstore serve`.
describe('personal: a new machine without the user\'s key file, and adopting a key file later', () => {
  let cluster: TestCluster
  let store: Proc
  let storeData: string
  let userKeyFile: string
  let storeConfig: { address: string, discoveryKey: string }
  let laptop: LaunchedCachePoint
  let folder: string

  before(async () => {
    cluster = await createTestCluster('personal-new-machine')
    storeData = join(cluster.dir, 'store')
    const discoveryFile = join(cluster.dir, 'discovery.key')
    const discoveryKey = (await run(DCSTORE_CLI, ['keygen', '--out', discoveryFile])).trim()
    await run(DCSTORE_CLI, ['keygen', '--out', userKeyFile = join(cluster.dir, 'alice.key')])
    const storePeer = (await run(DCSTORE_CLI, ['--data', storeData, 'peer-id'])).trim()
    const listen = `/ip4/127.0.0.1/tcp/${await freePort()}`
    storeConfig = { address: `${listen}/p2p/${storePeer}`, discoveryKey }
    store = launch(DCSTORE_CLI, ['--data', storeData, '--discovery-key', discoveryFile, 'serve', '--listen', listen])
    await store.waitFor(e => e.peerId !== undefined)
    // the user's first machine, with the key file: its folder is at the store
    folder = join(cluster.dir, 'alice-laptop')
    await mkdir(join(folder, 'reports'), { recursive: true })
    await writeFile(join(folder, 'reports', 'q3.txt'), 'quarterly numbers\n'.repeat(2_000))
    laptop = await cluster.start('laptop', { personalization: [{ user: 'alice', path: folder, keyFile: userKeyFile }], personalStore: storeConfig })
    await run(DCSTORE_CLI, ['--data', storeData, 'enroll', laptop.status.peerId, '--user', 'alice'])
    const snap = await cliJson<PersonalSnapshotResultInfo>(laptop.dataDir, 'personal', 'snapshot')
    assert.equal(snap.replicated, true, JSON.stringify(snap))
  })

  after(async () => {
    await cluster.close()
    store.child.kill('SIGTERM'); await store.exited
  })

  it('its empty folder is not snapshotted, and a restore from the store fails with the reason and the fix (exit 9); adopt-key later keeps the local history', async () => {
    const folder2 = join(cluster.dir, 'alice-desktop')
    await mkdir(folder2)
    let desktop: LaunchedCachePoint = await cluster.start('desktop', { personalization: [{ user: 'alice', path: folder2 }], personalStore: storeConfig })
    await run(DCSTORE_CLI, ['--data', storeData, 'enroll', desktop.status.peerId, '--user', 'alice'])
    // the daemon's snapshot at start found the folder empty: nothing recorded, nothing replicated, and status says why
    const status = await until(async () => cliJson<PersonalStatusInfo[]>(desktop.dataDir, 'personal', 'status'), l => l[0]?.lastError !== null, { timeoutMs: 20_000, intervalMs: 200, what: 'the start snapshot' })
    assert.match(status[0].lastError ?? '', /is empty and this node has no snapshot/)
    assert.equal(status[0].snapshots, 0)
    const snap = await cli(desktop.dataDir, 'personal', 'snapshot')
    assert.equal(snap.code, 4, snap.stderr)
    assert.match(snap.stderr, /nothing recorded/)
    assert.deepEqual(await cliJson<PersonalSnapshotInfo[]>(desktop.dataDir, 'personal', 'log'), [])

    // the store still names the laptop's snapshot as the latest: a restore here cannot open it, and says so
    const out = join(cluster.dir, 'restored')
    const restore = await cli(desktop.dataDir, 'personal', 'restore', '--from-store', '--to', out)
    assert.equal(restore.code, 9, `${restore.stdout} ${restore.stderr}`)
    assert.match(restore.stderr, /sealed with a user key this node does not have/)
    assert.match(restore.stderr, /keyFile/)
    assert.equal(restore.stderr.trim().split('\n').length, 1, restore.stderr)
    assert.deepEqual(await readdir(out).catch(() => []), [])

    // the user starts working here before the key file arrives: that folder gets a history of its own (random key)
    await writeFile(join(folder2, 'notes.txt'), 'written on the desktop before the key file\n')
    // (the watcher may have taken it already: then `snapshot` finds the folder unchanged since)
    const own = await cliJson<PersonalSnapshotResultInfo>(desktop.dataDir, 'personal', 'snapshot')
    assert.equal(own.files, 1)
    assert.deepEqual((await cliJson<PersonalSnapshotInfo[]>(desktop.dataDir, 'personal', 'log')).map(s => s.cid), [own.cid])

    // the key file is added to the config: the folder refuses it, naming the migration
    await desktop.stop()
    const configPath = join(desktop.dataDir, 'config.json')
    const config = JSON.parse(await readFile(configPath, 'utf8')) as { personalization: Array<{ keyFile?: string }> }
    config.personalization[0].keyFile = userKeyFile
    await writeFile(configPath, JSON.stringify(config, null, 2))
    desktop = await cluster.restart('desktop')
    const refused = await until(async () => cliJson<PersonalStatusInfo[]>(desktop.dataDir, 'personal', 'status'), l => l[0]?.lastError !== null, { timeoutMs: 20_000, intervalMs: 200, what: 'the start error' })
    assert.match(refused[0].lastError ?? '', /cachepoint personal adopt-key/)
    const whileRunning = await cli(desktop.dataDir, 'personal', 'adopt-key')
    assert.equal(whileRunning.code, 3, whileRunning.stderr)
    assert.match(whileRunning.stderr, /is running: stop it first/)

    await desktop.stop()
    const adopted = await cli(desktop.dataDir, 'personal', 'adopt-key', '--user', 'alice')
    assert.equal(adopted.code, 0, adopted.stderr)
    assert.match(adopted.stdout, /now uses the user's key pair/)
    desktop = await cluster.restart('desktop')
    // the history is kept, and the next snapshot continues it (and takes in the laptop's folder through the merge)
    const next = await until(async () => cliJson<PersonalSnapshotResultInfo>(desktop.dataDir, 'personal', 'snapshot'), s => s.replicateError === undefined && s.files >= 2, { timeoutMs: 30_000, intervalMs: 200, what: 'a merged snapshot' })
    const log = await cliJson<PersonalSnapshotInfo[]>(desktop.dataDir, 'personal', 'log')
    assert.equal(log[0].cid, own.cid, 'the snapshot taken before adopting the key is still in the log')
    assert.equal(log[1].parent, own.cid, 'the next snapshot continues it')
    assert.ok(log.at(-1)?.cid === next.cid)
    const before = join(cluster.dir, 'before-adopt')
    const old = await cliJson<PersonalRestoreResultInfo>(desktop.dataDir, 'personal', 'restore', '--at', own.time, '--to', before)
    assert.equal(old.snapshot.cid, own.cid)
    assert.deepEqual(Object.keys(await treeHashes(before)), ['notes.txt'])
    const now = await treeHashes(folder2)
    assert.ok(now['reports/q3.txt'] !== undefined && now['notes.txt'] !== undefined, JSON.stringify(now))
  })
})
