import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { CHUNKER_KEYED_ID } from '@cachecloud/chunker'
import type { CID } from '@cachecloud/core'
import { createPersonalFolder, decodeRecord, deriveUserKeys, generateUserKey, generateX25519KeyPair, openChunk, CHUNK_FORMAT } from '../src/index.js'
import { tempDir } from './helpers.js'

describe('personal: the chunker is keyed per user', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let blockstore: Blockstore
  const discovery = generateX25519KeyPair()
  const data = createCipheriv('aes-256-ctr', createHash('sha256').update('shared file').digest(), Buffer.alloc(16)).update(Buffer.alloc(3 * 1024 * 1024))

  before(async () => {
    dir = await tempDir('personal-keyed-')
    blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
    await mkdir(join(dir.path, 'home'), { recursive: true })
    await writeFile(join(dir.path, 'home', 'known.iso'), data)
  })
  after(async () => { await blockstore.stop(); await dir.cleanup() })

  /** The chunk sizes of the folder's one file as `userKey` snapshots it from scratch, and the record's chunker id. */
  async function chunkSizes (userKey: Uint8Array, state: string): Promise<{ sizes: number[], chunker: string }> {
    const sync = createPersonalFolder({ user: 'u', folder: join(dir.path, 'home'), stateDir: join(dir.path, state), blockstore, node: 'n', discoveryKey: discovery.publicKey, userKey, watch: false })
    const snap = await sync.snapshot()
    const keys = deriveUserKeys(userKey)
    const links = (dagCbor.decode(await blockstore.get(snap.root)) as { l: CID[] }).l
    const sizes: number[] = []
    for (const cid of links) sizes.push(openChunk(keys, await blockstore.get(cid), CHUNK_FORMAT.flagged).byteLength)
    assert.equal(sizes.reduce((a, b) => a + b, 0), data.byteLength)
    return { sizes, chunker: decodeRecord(await blockstore.get(snap.cid)).chunker }
  }

  it('two users cut the same file at different boundaries; one user always at the same', async () => {
    const alice = generateUserKey()
    const a1 = await chunkSizes(alice, 'alice-1')
    const a2 = await chunkSizes(alice, 'alice-2')
    const b = await chunkSizes(generateUserKey(), 'bob')
    assert.deepEqual(a1.sizes, a2.sizes)
    assert.notDeepEqual(a1.sizes, b.sizes)
    const cuts = (s: number[]): Set<number> => { const out = new Set<number>(); let at = 0; for (const n of s) out.add(at += n); return out }
    const shared = [...cuts(a1.sizes)].filter(c => cuts(b.sizes).has(c)).length
    assert.ok(shared <= 3, `${shared} of ${a1.sizes.length} boundaries shared`)
    assert.equal(a1.chunker, CHUNKER_KEYED_ID)
  })
})
