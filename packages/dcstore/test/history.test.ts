import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { generateX25519KeyPair, ReplicationRefusedError, replicateSnapshot } from '@cachecloud/personal'
import { Crafter } from '@cachecloud/personal/testing'
import { createDcStore, type DcStore } from '../src/index.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const HOUR = 3_600_000

// Nodes set their own snapshot times and parents; the store checks them and
// keeps retention to the time it committed each snapshot.
describe('snapshot times and parents are checked (real libp2p on loopback)', () => {
  let dir: string
  const discovery = generateX25519KeyPair()
  let storeHost: CachePointLibp2p
  let laptop: CachePointLibp2p
  let desktop: CachePointLibp2p
  let store: DcStore
  let blocks: Blockstore

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-history-'))
    storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    laptop = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    desktop = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'test' })
    await store.start()
    for (const h of [laptop, desktop]) await store.enroll(h.peerId.toString(), ['alice'])
    blocks = createBlockstore({ path: join(dir, 'node-blocks') })
    await blocks.start()
  })

  after(async () => {
    await store.stop()
    await blocks.stop()
    for (const h of [laptop, desktop, storeHost]) await h.stop()
    await rm(dir, { recursive: true, force: true })
  })

  /** Offers a one-file snapshot taken by `host` at `time` with `parent`. */
  const offer = async (host: CachePointLibp2p, time: Date, parent: CID | null = null): Promise<CID> => {
    const c = new Crafter()
    const root = c.dirBlock([c.file('a.txt', `at ${time.toISOString()}`)])
    const rec = c.record({ user: 'alice', node: host.peerId.toString(), discoveryPublicKey: discovery.publicKey, root, time: time.toISOString(), parent, files: 1 })
    await c.storeInto(blocks)
    await replicateSnapshot({ libp2p: host, store: storeHost.getMultiaddrs()[0], blockstore: blocks, record: { ...rec, root }, timeoutMs: 30_000 })
    return rec.cid
  }
  const refused = (why: RegExp) => (err: Error) => err instanceof ReplicationRefusedError && err.reason === 'invalid' && why.test(err.message)

  it('a time in the future (beyond the clock skew) is refused', async () => {
    await assert.rejects(offer(laptop, new Date(Date.now() + 2 * HOUR)), refused(/in the future/))
  })

  it('a time before the node\'s previous snapshot is refused; a later one is accepted', async () => {
    const first = await offer(laptop, new Date(Date.now() - HOUR))
    await assert.rejects(offer(laptop, new Date(Date.now() - 2 * HOUR), first), refused(/before the node's previous snapshot/))
    await offer(laptop, new Date(), first)
  })

  it('a parent that is another node\'s snapshot is refused', async () => {
    const laptops = await store.discovery.timeline('alice')
    await assert.rejects(offer(desktop, new Date(), (await import('@cachecloud/core')).parseCid(laptops[0].snapshot.cid)), refused(/not a snapshot of alice by this node/))
  })

  it('retention goes by the time the store committed a snapshot, not the time the node claims', async () => {
    // the desktop's first snapshot claims 2001: the store received it just now
    await offer(desktop, new Date('2001-01-01T00:00:00Z'))
    const dry = await store.retention(new Date(Date.now() - HOUR), false)
    assert.equal(dry.snapshots.length, 0, 'nothing was committed an hour ago')
    const all = await store.retention(new Date(Date.now() + 1000), false)
    assert.equal(all.snapshots.length, 3)
  })
})
