import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import type { CID } from 'multiformats/cid'
import { createBlockstore, DiskFullError } from '../src/index.js'
import { packFiles, scanPack, tempDir, rawStats } from './helpers.js'

const isRoot = process.getuid?.() === 0
const BLOCK = 256 * 1024

describe('full disk', () => {
  it('put throws DiskFullError, stores nothing, and the store works again after gc frees a pack', {
    skip: isRoot ? false : 'needs root to mount a small tmpfs'
  }, async () => {
    const mnt = await tempDir('blockstore-full-')
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt])
    try {
      const root = join(mnt, 'store')
      await mkdir(root)
      // Two blocks per pack, so deleting two blocks frees a whole pack.
      const store = createBlockstore({ path: root, packBytes: 600 * 1024 })
      await store.start()
      const stored: CID[] = []
      let failure: unknown
      for (let i = 0; i < 20 && failure === undefined; i++) {
        const bytes = randomBytes(BLOCK)
        try {
          stored.push((await store.putBytes(bytes)).cid)
        } catch (err) {
          failure = err
          assert.equal(await store.has(cidOf(bytes)), false)
        }
      }
      assert.ok(failure instanceof DiskFullError, `expected DiskFullError, got ${String(failure)}`)
      assert.equal(failure.code, 'ERR_DISK_FULL')
      assert.match(failure.message, /^disk full \(ENOSPC\) while writing block \S+ \(262144 bytes\) to /)
      assert.ok(!failure.message.includes('\n'))
      assert.ok(stored.length >= 3 && stored.length < 8, `stored ${stored.length}`)
      assert.deepEqual(await rawStats(store), { blocks: stored.length, bytes: stored.length * BLOCK })
      for (const cid of stored) assert.equal((await store.get(cid)).byteLength, BLOCK)
      // No partial record was left behind.
      for (const file of await packFiles(root)) {
        const bytes = await readFile(file)
        assert.equal(scanPack(bytes).end, bytes.byteLength)
      }

      const dead = new Set(stored.splice(0, 2).map(cid => cid.toString()))
      const result = await store.gc(cid => !dead.has(cid.toString()))
      assert.equal(result.removed, 2)
      stored.push((await store.putBytes(randomBytes(BLOCK))).cid)
      await store.sync()
      assert.equal((await store.stats()).blocks, stored.length)
      await store.stop()
      await store.start()
      assert.deepEqual(await rawStats(store), { blocks: stored.length, bytes: stored.length * BLOCK })
      await store.stop()
    } finally {
      execFileSync('umount', [mnt])
      await rm(mnt, { recursive: true })
    }
  })
})
