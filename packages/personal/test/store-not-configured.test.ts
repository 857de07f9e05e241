import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { exitCodeFor } from '@cachecloud/core'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createPersonalFolder, generateX25519KeyPair, SnapshotNotFoundError, StoreNotConfiguredError, type PersonalFolder } from '../src/index.js'
import { tempDir } from './helpers.js'

describe('personal sync without a data-center store', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let blockstore: Blockstore
  let sync: PersonalFolder

  before(async () => {
    dir = await tempDir('personal-nostore-')
    const folder = join(dir.path, 'home')
    await mkdir(folder)
    await writeFile(join(folder, 'notes.md'), '# notes\n')
    blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
    sync = createPersonalFolder({ user: 'alice', folder, stateDir: join(dir.path, 'state'), blockstore, node: 'node-a', discoveryKey: generateX25519KeyPair().publicKey, watch: false })
  })

  after(async () => {
    await blockstore.stop()
    await dir.cleanup()
  })

  it('refuses to replicate with a config error (exit 9), not "snapshot not found" (exit 4)', async () => {
    await sync.snapshot()
    const err = await sync.replicate().then(() => undefined, (e: unknown) => e)
    assert.ok(err instanceof StoreNotConfiguredError, String(err))
    assert.ok(!(err instanceof SnapshotNotFoundError))
    assert.equal(err.code, 'ERR_STORE_NOT_CONFIGURED')
    assert.equal(err.kind, 'config')
    assert.equal(exitCodeFor(err), 9)
    assert.match(err.message, /no store configured/)
  })
})
