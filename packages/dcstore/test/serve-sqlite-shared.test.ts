import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { generateX25519KeyPair } from '@cachecloud/personal'
import { createDcStore, StoreInUseError, type DcStore } from '../src/index.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

/** A shared block backend lets several processes serve one store, but a SQLite index on the shared data directory does not. */
describe('serving a shared backend with a SQLite index', () => {
  const hosts: CachePointLibp2p[] = []
  const stores: DcStore[] = []
  let dir: string | undefined

  after(async () => {
    for (const s of stores) await s.stop().catch(() => {})
    for (const h of hosts) await h.stop()
    if (dir !== undefined) await rm(dir, { recursive: true, force: true })
  })

  it('one process serves; a second is refused in one line that names the PostgreSQL index, and serves once the first stops', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-sqlite-shared-'))
    const discovery = generateX25519KeyPair()
    const open = async (): Promise<DcStore> => {
      const libp2p = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
      hosts.push(libp2p)
      const store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir!, 'store'), blocks: { kind: 'shared-fs', path: join(dir!, 'blocks') }, libp2p, discoveryPrivateKey: discovery.privateKey, operator: 'test' })
      stores.push(store)
      return store
    }
    const first = await open()
    await first.start()
    const second = await open()
    await assert.rejects(second.start(), (err: Error) => err instanceof StoreInUseError && /only with a PostgreSQL index \(--index-url or \$DCSTORE_INDEX_URL\)$/.test(err.message) && !err.message.includes('\n'))
    await first.stop()
    const third = await open()
    await third.start()
  })
})
