import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { DCSTORE_CLI, freePort, launch, NODE_CHILD, run, treeHashes, type Proc } from './personal-procs.js'

function randomish (seed: string, length: number): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(length))
}

describe('personal replication survives kill -9 of the store and of the node (real processes)', () => {
  let dir: string
  let keyFile: string
  let storeData: string
  let nodeHome: string
  let folder: string
  let discoveryPublic: string
  let storeAddr: string
  let port: number
  let store: Proc | undefined
  const common = (): string[] => ['--home', nodeHome, '--folder', folder, '--user', 'alice', '--discovery', discoveryPublic]

  const startStore = async (): Promise<void> => {
    store = launch(DCSTORE_CLI, ['--data', storeData, '--discovery-key', keyFile, 'serve', '--listen', `/ip4/127.0.0.1/tcp/${port}`])
    const ready = await store.waitFor(e => e.peerId !== undefined)
    storeAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${String(ready.peerId)}`
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'personal-crash-'))
    keyFile = join(dir, 'discovery.key')
    storeData = join(dir, 'store')
    nodeHome = join(dir, 'node')
    folder = join(dir, 'alice')
    for (let d = 0; d < 8; d++) {
      await mkdir(join(folder, `d${d}`), { recursive: true })
      for (let f = 0; f < 30; f++) await writeFile(join(folder, `d${d}`, `f${f}.bin`), randomish(`${d}/${f}`, 50_000 + f * 1000))
    }
    discoveryPublic = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    port = await freePort()
  })

  after(async () => {
    store?.child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('resumes after each crash, then holds exactly the snapshot: nothing duplicated or lost', async () => {
    const expected = await treeHashes(folder)
    const snap = JSON.parse((await run(NODE_CHILD, ['snapshot', ...common()])).split('\n')[0]) as { cid: string, newBytes: number, files: number }
    assert.equal(snap.files, 240)
    const total = snap.newBytes
    const peer = JSON.parse(await run(NODE_CHILD, ['peer-id', '--home', nodeHome])) as { peerId: string }
    await run(DCSTORE_CLI, ['--data', storeData, 'enroll', peer.peerId, '--user', 'alice'])
    await startStore()

    // 1. the store dies mid-replication
    const first = launch(NODE_CHILD, ['replicate', ...common(), '--store', storeAddr])
    await first.waitFor(e => e.event === 'progress' && Number(e.bytes) > total * 0.5)
    store!.child.kill('SIGKILL')
    await store!.exited
    assert.notEqual(await first.exited, 0)
    const visible = JSON.parse(await run(DCSTORE_CLI, ['--data', storeData, '--json', 'discover', 'timeline', '--user', 'alice'])) as unknown[]
    assert.equal(visible.length, 0, 'an incomplete snapshot is not visible')

    // 2. the node dies mid-replication
    await startStore()
    const second = launch(NODE_CHILD, ['replicate', ...common(), '--store', storeAddr])
    const progress = await second.waitFor(e => e.event === 'progress' && Number(e.bytes) > total * 0.2)
    second.child.kill('SIGKILL')
    await second.exited
    assert.ok(Number(second.events.find(e => e.event === 'progress')?.bytes) < total * 0.6, 'resumed: did not resend what the store had committed')
    assert.ok(Number(progress.bytes) < total)

    // 3. it completes, sending less than everything
    const third = launch(NODE_CHILD, ['replicate', ...common(), '--store', storeAddr])
    const done = await third.waitFor(e => e.event === 'replicated', 60_000)
    assert.equal(await third.exited, 0)
    assert.equal(done.replicated, 1)
    assert.ok(Number(done.bytesSent) < total * 0.9, `third run sent ${String(done.bytesSent)} of ${total}`)

    // 4. exactly one snapshot with every file, and an export reproduces the tree byte for byte
    const timeline = JSON.parse(await run(DCSTORE_CLI, ['--data', storeData, '--json', 'discover', 'timeline', '--user', 'alice'])) as Array<{ snapshot: { cid: string, files: number }, added: number }>
    assert.equal(timeline.length, 1)
    assert.equal(timeline[0].snapshot.cid, snap.cid)
    assert.equal(timeline[0].added, 240)
    // an export opens the block stores: it needs the store stopped (the data directory's lock)
    store!.child.kill('SIGTERM')
    await store!.exited
    const out = join(dir, 'export')
    await run(DCSTORE_CLI, ['--data', storeData, '--discovery-key', keyFile, 'discover', 'export', '--user', 'alice', '--to', out])
    const exported = await treeHashes(out)
    delete exported['MANIFEST.json']; delete exported.SHA256SUMS
    assert.deepEqual(exported, expected)

    // 5. offering it again is a no-op
    await startStore()
    const again = JSON.parse((await run(NODE_CHILD, ['replicate', ...common(), '--store', storeAddr])).split('\n')[0]) as { replicated: number }
    assert.equal(again.replicated, 0)
    await run(DCSTORE_CLI, ['--data', storeData, 'audit', 'verify'])
  })
})
