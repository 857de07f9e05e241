import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'
import { createPersonalFolder, deriveUserKeys, generateUserKey, generateX25519KeyPair, openDirBlock, readDir, sealDir, type Entry } from '../src/index.js'
import { tempDir, treeHashes } from './helpers.js'

// A first snapshot with files read and sealed on worker threads, across
// directories at once, gives the same tree (the same root CID, so every block)
// as one file at a time on the calling thread.
describe('personal scan: parallel and sequential give the same snapshot', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let folder: string
  const userKey = generateUserKey()
  const discovery = generateX25519KeyPair()
  const stores: Blockstore[] = []

  before(async () => {
    dir = await tempDir('personal-parallel-')
    folder = join(dir.path, 'home')
    let n = 0
    const bytes = (size: number, text: boolean): Buffer => {
      n++
      if (text) return Buffer.from(`line ${n} of a text file that compresses\n`.repeat(Math.ceil(size / 40))).subarray(0, size)
      return createCipheriv('aes-256-ctr', createHash('sha256').update(String(n)).digest(), Buffer.alloc(16)).update(Buffer.alloc(size))
    }
    // nested directories of several sizes (a paged one of 80 entries), small, empty and large files (streamed), a symlink
    for (const [d, count] of [['a', 5], ['a/b', 80], ['a/b/c', 3], ['d', 0], ['e', 12]] as const) {
      await mkdir(join(folder, d), { recursive: true })
      for (let i = 0; i < count; i++) await writeFile(join(folder, d, `f${i}.${i % 2 === 0 ? 'txt' : 'bin'}`), bytes(i * 997 % 20_000, i % 2 === 0))
    }
    await writeFile(join(folder, 'e', 'large.bin'), bytes(3 * 1024 * 1024 + 123, false))
    await writeFile(join(folder, 'e', 'large.txt'), bytes(2 * 1024 * 1024, true))
    await writeFile(join(folder, 'empty'), '')
    await symlink('a/b', join(folder, 'link'))
  })
  after(async () => { for (const s of stores) await s.stop(); await dir.cleanup() })

  async function first (name: string, concurrency: number): Promise<{ root: CID, record: CID, blockstore: Blockstore, newBlocks: number }> {
    const blockstore = createBlockstore({ path: join(dir.path, `blocks-${name}`) })
    await blockstore.start()
    stores.push(blockstore)
    const sync = createPersonalFolder({ user: 'u', folder, stateDir: join(dir.path, `state-${name}`), blockstore, node: 'n', discoveryKey: discovery.publicKey, userKey, watch: false, concurrency })
    const snap = await sync.snapshot()
    return { root: snap.root, record: snap.cid, blockstore, newBlocks: snap.stats.newBlocks }
  }

  it('concurrency 1 (calling thread) and 16 (sealing threads, directories side by side): identical roots and blocks', async () => {
    const one = await first('seq', 1)
    const many = await first('par', 16)
    assert.equal(many.root.toString(), one.root.toString())
    assert.equal(many.newBlocks, one.newBlocks)
    // every block but the records (their time and wrapped keys differ by design)
    const cids = async (s: { blockstore: Blockstore, record: CID }): Promise<string[]> => {
      const out: string[] = []
      for await (const c of s.blockstore.cids()) if (!c.equals(s.record)) out.push(c.toString())
      return out.sort()
    }
    assert.deepEqual(await cids(many), await cids(one))
    // the entries sealed on the threads are the bytes sealDir makes itself: each directory re-sealed here gives its CID
    const keys = deriveUserKeys(userKey)
    const check = async (cid: CID): Promise<void> => {
      const entries: Entry[] = await readDir(many.blockstore, keys, cid)
      assert.equal(sealDir(keys, entries).cid.toString(), cid.toString())
      for (const e of entries) if (e.kind === 'dir') await check(e.dir)
    }
    await check(many.root)
    assert.equal(openDirBlock(keys, await many.blockstore.get(many.root)).paged, false)
    // and it restores
    const sync = createPersonalFolder({ user: 'u', folder, stateDir: join(dir.path, 'state-par'), blockstore: many.blockstore, node: 'n', discoveryKey: discovery.publicKey, userKey, watch: false })
    await sync.restore('', { to: join(dir.path, 'out') })
    assert.deepEqual(await treeHashes(join(dir.path, 'out')), await treeHashes(folder))
  })
})
