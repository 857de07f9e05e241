import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, readdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { CID } from 'multiformats/cid'
import { createBlockstore, DiskFullError } from '../src/index.js'
import { tempDir } from './helpers.js'

const isRoot = process.getuid?.() === 0

describe('full disk', () => {
  it('put throws DiskFullError, leaves no temp file, and the store works after deleting blocks', {
    skip: isRoot ? false : 'needs root to mount a small tmpfs'
  }, async () => {
    const mnt = await tempDir('blockstore-full-')
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt])
    try {
      const root = join(mnt, 'store')
      await mkdir(root)
      const store = createBlockstore({ path: root })
      await store.start()
      const stored: CID[] = []
      let failure: unknown
      for (let i = 0; i < 20 && failure === undefined; i++) {
        const bytes = randomBytes(256 * 1024)
        try {
          stored.push((await store.putBytes(bytes)).cid)
        } catch (err) {
          failure = err
          assert.equal(await store.has((await import('@cachecloud/core')).cidOf(bytes)), false)
        }
      }
      assert.ok(failure instanceof DiskFullError, `expected DiskFullError, got ${String(failure)}`)
      assert.equal(failure.code, 'ERR_DISK_FULL')
      assert.match(failure.message, /^disk full \(ENOSPC\) while writing block \S+ \(262144 bytes\) to /)
      assert.ok(!failure.message.includes('\n'))
      assert.ok(stored.length >= 3 && stored.length < 8, `stored ${stored.length}`)
      assert.deepEqual(await readdir(join(root, 'tmp')), [])
      assert.deepEqual(await store.stats(), { blocks: stored.length, bytes: stored.length * 256 * 1024 })
      for (const cid of stored) assert.equal((await store.get(cid)).byteLength, 256 * 1024)

      await store.delete(stored.pop() as CID)
      await store.delete(stored.pop() as CID)
      stored.push((await store.putBytes(randomBytes(256 * 1024))).cid)
      await store.sync()
      assert.equal((await store.stats()).blocks, stored.length)
      await store.stop()
    } finally {
      execFileSync('umount', [mnt])
      await rm(mnt, { recursive: true })
    }
  })
})
