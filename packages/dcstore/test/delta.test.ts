import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Blockstore } from '@cachecloud/blockstore'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { generateX25519KeyPair, type PersonalFolder } from '@cachecloud/personal'
import { createDcStore, type DcStore } from '../src/index.js'
import { startNodeSync } from './node-sync.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const DIRS = 3
const PER_DIR = 60
const sha = (data: string): string => createHash('sha256').update(data).digest('hex')
const body = (d: number, f: number, v: string): string => `${v} ${d}/${f} `.repeat(400)

// Changed directory blocks travel as deltas of the parent snapshot's blocks;
// the store rebuilds them with no key, checks each against its CID, and
// wants a block whole when it no longer holds the base.
describe('directory blocks as deltas (real libp2p on loopback)', () => {
  let dir: string
  const discovery = generateX25519KeyPair()
  let storeHost: CachePointLibp2p
  let nodeHost: CachePointLibp2p
  let store: DcStore
  let blockstore: Blockstore
  let sync: PersonalFolder
  let folder: string
  const expected: Record<string, string> = {}
  /** Block bytes of the delta-only replication (the second snapshot). */
  let deltaBytes = 0

  const edit = async (v: string): Promise<number> => {
    let bytes = 0
    for (let d = 0; d < DIRS; d++) {
      const text = body(d, 7, v)
      await writeFile(join(folder, `d${d}`, 'f7.txt'), text)
      expected[`d${d}/f7.txt`] = sha(text)
      bytes += text.length
    }
    return bytes
  }

  const files = async (at: string): Promise<Record<string, string>> =>
    Object.fromEntries((await store.discovery.treeAt('alice', at)).files.map(f => [f.path, f.sha256]))

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-delta-'))
    folder = join(dir, 'alice')
    for (let d = 0; d < DIRS; d++) {
      await mkdir(join(folder, `d${d}`), { recursive: true })
      for (let f = 0; f < PER_DIR; f++) {
        const text = body(d, f, 'v1')
        await writeFile(join(folder, `d${d}`, `f${f}.txt`), text)
        expected[`d${d}/f${f}.txt`] = sha(text)
      }
    }
    storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    nodeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'test' })
    await store.start()
    await store.enroll(nodeHost.peerId.toString(), ['alice'])
    ;({ blockstore, sync } = await startNodeSync({ dir, user: 'alice', folder, nodeHost, storeHost, discoveryKey: discovery.publicKey }))
  })

  after(async () => {
    await store.stop()
    await blockstore.stop()
    await nodeHost.stop()
    await storeHost.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('sends a first snapshot whole, then only deltas of the changed directories', async () => {
    await sync.snapshot()
    const first = await sync.replicate()
    assert.equal(first.deltas, 0)
    const changed = await edit('v2')
    const s2 = await sync.snapshot()
    const second = await sync.replicate()
    deltaBytes = second.bytesSent
    assert.ok(second.deltas >= DIRS + 1, `deltas: ${second.deltas}`)
    assert.ok(second.wireBytes < changed * 1.5, `sent ${second.wireBytes} bytes for ${changed} changed`)
    assert.deepEqual(await files(s2.time), expected)
  })

  it('wants a block whole when its base is gone (retention removed the parent)', async () => {
    const changed = await edit('v3')
    await sleep(5)
    const s3 = await sync.snapshot()
    const removed = await store.retention(s3.time, true)
    assert.equal(removed.snapshots.length, 2)
    const third = await sync.replicate()
    assert.equal(third.replicated, 1)
    // the node sent deltas of blocks the store no longer holds; the store wanted those again, whole
    assert.ok(third.deltas > 0)
    // (chunks are compressed before sealing, so the whole folder is measured against a delta-only replication, not the plaintext)
    assert.ok(changed > 0 && third.bytesSent > deltaBytes * 5, `the whole folder was sent again: ${third.bytesSent} bytes, ${deltaBytes} for deltas only`)
    assert.deepEqual(await files(s3.time), expected)
  })
})
