import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import {
  createPersonalFolder, decodeMessage, FrameReader, generateX25519KeyPair, MAX_FRAME_BYTES, PERSONAL_PROTOCOL, ReplicationRefusedError, type PersonalFolder
} from '@cachecloud/personal'
import { createDcStore, NotEnrolledError, STORE_FILES, type DcStore } from '../src/index.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

/** LEB128 of n: the length prefix of a frame. */
function varint (n: number): Uint8Array {
  const out: number[] = []
  while (n >= 0x80) { out.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  out.push(n)
  return Uint8Array.from(out)
}

describe('enrollment: checked first, cached, and revocable (real libp2p on loopback)', () => {
  let dir: string
  const discovery = generateX25519KeyPair()
  let storeHost: CachePointLibp2p
  let nodeHost: CachePointLibp2p
  let stranger: CachePointLibp2p
  let store: DcStore
  let blockstore: Blockstore
  let sync: PersonalFolder

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-enroll-'))
    storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    nodeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    stranger = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'test', timeoutMs: 2_000 })
    await store.start()
    blockstore = createBlockstore({ path: join(dir, 'node-blocks') })
    await blockstore.start()
    await writeFile(join(dir, 'note.txt'), 'x')
    sync = createPersonalFolder({
      user: 'alice', folder: dir, stateDir: join(dir, 'node-state'), blockstore, node: nodeHost.peerId.toString(),
      discoveryKey: discovery.publicKey, libp2p: nodeHost, store: storeHost.getMultiaddrs()[0], watch: false
    })
  })

  after(async () => {
    await store.stop()
    await blockstore.stop()
    for (const h of [nodeHost, stranger, storeHost]) await h.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('a node that is not enrolled is refused before the store reads its (16 MiB) offer', async () => {
    const conn = await stranger.dial(storeHost.getMultiaddrs()[0])
    const stream = await conn.newStream(PERSONAL_PROTOCOL)
    // a frame header announcing nearly the largest frame, and only a few of its bytes
    stream.send(varint(MAX_FRAME_BYTES - 1))
    stream.send(new Uint8Array(1024))
    const reader = new FrameReader(stream, MAX_FRAME_BYTES)
    const t0 = performance.now()
    const frame = await reader.next()
    assert.ok(frame !== undefined, 'the store answered')
    const m = decodeMessage(frame)
    assert.ok(m.t === 'refused' && m.reason === 'node-not-enrolled', JSON.stringify(m))
    assert.ok(performance.now() - t0 < 1_500, 'answered at once, not after waiting for the frame')
    stream.abort(new Error('done'))
  })

  it('unenroll by another process (a stolen laptop) takes effect on the running store at the next stream; it is audited', async () => {
    await store.enroll(nodeHost.peerId.toString(), ['alice'])
    await sync.snapshot()
    assert.equal((await sync.replicate()).replicated, 1)
    // an admin command: its own store object on the same directory, beside the serving one
    const admin = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), create: false, operator: 'admin' })
    await admin.start()
    assert.deepEqual(await admin.unenroll(nodeHost.peerId.toString()), ['alice'])
    await assert.rejects(admin.unenroll(nodeHost.peerId.toString()), NotEnrolledError)
    await admin.stop()
    await writeFile(join(dir, 'note.txt'), 'changed on the stolen laptop')
    await sync.snapshot()
    await assert.rejects(sync.replicate(), (err: Error) => err instanceof ReplicationRefusedError && err.reason === 'node-not-enrolled')
    const audit = (await readFile(join(dir, 'store', STORE_FILES.audit), 'utf8')).trim().split('\n').map(l => JSON.parse(l) as { action: string, kind: string, operator?: string, who: { pid: number }, params?: { peer?: string }, ok?: boolean })
    // the intent names the peer; its outcome says it succeeded; the operator's claim is kept beside the OS process
    assert.ok(audit.some(e => e.action === 'unenroll' && e.kind === 'intent' && e.operator === 'admin' && e.who.pid === process.pid && e.params?.peer === nodeHost.peerId.toString()))
    assert.equal(audit.filter(e => e.action === 'unenroll' && e.kind === 'outcome').map(e => e.ok).join(), 'true,false')
    assert.equal((await store.verifyAudit()).entries, audit.length)
    // enrolled again, it replicates what waited
    await store.enroll(nodeHost.peerId.toString(), ['alice'])
    assert.equal((await sync.replicate()).replicated, 1)
  })
})
