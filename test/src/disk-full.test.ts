import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { RemoteError } from '@cachecloud/control'
import { makeSparseImage } from '@cachecloud/fixtures'
import { initLoopbackNode, launchCachePoint } from 'cachepoint/launcher'

const isRoot = process.getuid?.() === 0

describe('a full disk', () => {
  it('fails an import with ERR_DISK_FULL, keeps the daemon and the store usable', { skip: isRoot ? false : 'needs root to mount a small tmpfs' }, async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-disk-full-'))
    const dataDir = join(dir, 'node')
    await mkdir(dataDir)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', dataDir])
    try {
      await initLoopbackNode(dataDir)
      const node = await launchCachePoint({ dataDir, logFile: join(dir, 'daemon.log') })
      try {
        const big = join(dir, 'big.raw')
        await makeSparseImage(big, 64 * 1024 * 1024, [{ offset: 0, length: 40 * 1024 * 1024 }])
        await assert.rejects(node.client.importImage({ file: big, name: 'big', version: 'v1' }, () => {}),
          (err: RemoteError) => err.code === 'ERR_DISK_FULL' && !err.message.includes('\n'))
        assert.deepEqual(await node.client.images(), [], 'a failed import leaves no version behind')

        const small = join(dir, 'small.raw')
        await makeSparseImage(small, 8 * 1024 * 1024, [{ offset: 0, length: 512 * 1024 }], 'small')
        await node.client.gc()
        const ok = await node.client.importImage({ file: small, name: 'small', version: 'v1' }, () => {})
        assert.equal(ok.ref, 'small@v1', 'after GC frees the orphaned blocks, imports work again')
      } finally {
        await node.stop()
      }
    } finally {
      execFileSync('umount', [dataDir])
      await rm(dir, { recursive: true, force: true })
    }
  })
})
