import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { link, lstat, open, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { allocatedBytes, makeSparseImage, run, sha256File } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'
import { cli, type CliRun } from './cli-run.js'

const SIZE = 8 * 1024 * 1024

function oneLine (run: CliRun, code: number, pattern: RegExp): void {
  const lines = run.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line of error, got: ${run.stderr}`)
  assert.match(lines[0], pattern)
  assert.equal(run.code, code, run.stderr)
}

async function sha256Head (path: string, length: number): Promise<string> {
  const handle = await open(path, 'r')
  try {
    const buf = Buffer.alloc(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await handle.read(buf, done, length - done, done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    return createHash('sha256').update(buf.subarray(0, done)).digest('hex')
  } finally {
    await handle.close()
  }
}

describe('cachepoint image export: targets that exist', () => {
  let cluster: TestCluster
  let node: LaunchedCachePoint
  let imageFile: string
  let imageSha: string

  before(async () => {
    cluster = await createTestCluster('admin-export')
    imageFile = join(cluster.dir, 'gold.raw')
    await makeSparseImage(imageFile, SIZE, [{ offset: 0, length: 1024 * 1024 }, { offset: 5 * 1024 * 1024, length: 300_000 }])
    imageSha = await sha256File(imageFile)
    node = await cluster.start('node')
    const imported = await cli(node.dataDir, 'image', 'import', imageFile, '--name', 'gold', '--version', '1.0')
    assert.equal(imported.code, 0, imported.stderr)
  })

  after(async () => { await cluster.close() })

  it('refuses a character device with one line and exit 2, leaving it a device', async () => {
    const r = await cli(node.dataDir, 'image', 'export', 'gold@1.0', '/dev/full', '--force')
    oneLine(r, 2, /\/dev\/full.*character device/)
    assert.ok((await lstat('/dev/full')).isCharacterDevice(), '/dev/full is still the device')
  })

  it('refuses a FIFO without blocking on it', async () => {
    const fifo = join(cluster.dir, 'pipe')
    assert.equal((await run('mkfifo', [fifo])).code, 0)
    oneLine(await cli(node.dataDir, 'image', 'export', 'gold@1.0', fifo, '--force'), 2, /FIFO/)
    assert.ok((await lstat(fifo)).isFIFO())
  })

  it('refuses a symlink unless --follow-symlinks, then writes through it', async () => {
    const real = join(cluster.dir, 'real.raw')
    await writeFile(real, 'old content')
    const linkPath = join(cluster.dir, 'via-link.raw')
    await symlink(real, linkPath)
    oneLine(await cli(node.dataDir, 'image', 'export', 'gold@1.0', linkPath, '--force'), 2, /symbolic link.*--follow-symlinks/)
    assert.equal(await readFile(real, 'utf8'), 'old content')
    assert.ok((await lstat(linkPath)).isSymbolicLink())

    const r = await cli(node.dataDir, 'image', 'export', 'gold@1.0', linkPath, '--force', '--follow-symlinks')
    assert.equal(r.code, 0, r.stderr)
    assert.ok((await lstat(linkPath)).isSymbolicLink(), 'the link is not replaced')
    assert.equal(await readlink(linkPath), real)
    assert.equal(await sha256File(real), imageSha)
  })

  it('writes an existing regular file in place: same inode, truncated to the image size, sparse', async () => {
    const target = join(cluster.dir, 'existing.raw')
    await writeFile(target, Buffer.alloc(SIZE * 2, 0xab))
    const second = join(cluster.dir, 'hardlink.raw')
    await link(target, second)
    const inode = (await stat(target)).ino
    const r = await cli(node.dataDir, 'image', 'export', 'gold@1.0', target, '--force')
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await stat(target)).ino, inode, 'written in place, not renamed over')
    assert.equal((await stat(target)).size, SIZE)
    assert.equal(await sha256File(second), imageSha, 'the other link sees the image')
    assert.ok(await allocatedBytes(target) < SIZE / 2, `holes are punched: ${await allocatedBytes(target)} bytes allocated`)
  })

  it('writes a block device in place, zeroing holes over old data, leaving the rest of the device', async (t) => {
    const backing = join(cluster.dir, 'loop-backing.raw')
    await writeFile(backing, Buffer.alloc(SIZE * 2, 0xab))
    const attached = await run('losetup', ['-f', '--show', backing]).catch((err: Error) => ({ code: -1, stdout: '', stderr: err.message }))
    if (attached.code !== 0) {
      t.skip(`no loop device: losetup -f --show failed (${attached.stderr.trim()})`)
      return
    }
    const device = attached.stdout.trim()
    try {
      const refused = await cli(node.dataDir, 'image', 'export', 'gold@1.0', device)
      assert.equal(refused.code, 5, 'an existing device needs --force')
      const r = await cli(node.dataDir, 'image', 'export', 'gold@1.0', device, '--force')
      assert.equal(r.code, 0, r.stderr)
      assert.ok((await lstat(device)).isBlockDevice(), `${device} is still the device`)
      assert.equal(await sha256Head(device, SIZE), imageSha, 'the device holds the image, holes as zeros')
      const tail = await open(device, 'r')
      try {
        const buf = Buffer.alloc(4096)
        await tail.read(buf, 0, buf.length, SIZE)
        assert.ok(buf.every(b => b === 0xab), 'bytes beyond the image are left alone')
      } finally {
        await tail.close()
      }
    } finally {
      await run('losetup', ['-d', device])
    }
  })
})
