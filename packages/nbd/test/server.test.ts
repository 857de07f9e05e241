import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { after, before, describe, it } from 'node:test'
import { AddressInUseError, createNbdServer, createOverlay, DeviceError, NBD_EINVAL, NBD_EIO, NBD_EPERM, type BlockDevice, type NbdServer } from '../src/index.js'
import { TestNbdClient } from './client.js'

const exec = promisify(execFile)

function memoryDevice (bytes: Uint8Array, failAt?: number): BlockDevice {
  return {
    size: bytes.byteLength,
    async read (offset, length) {
      if (failAt !== undefined && offset <= failAt && failAt < offset + length) throw new DeviceError('block unavailable')
      return bytes.slice(offset, offset + length)
    }
  }
}

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('NBD server against real clients (qemu-img, qemu-io, nbdinfo)', () => {
  let dir: string
  const image = randomBytes(5 * 1024 * 1024 + 4096)
  let server: NbdServer
  let port: number

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-nbd-'))
    server = createNbdServer({ exports: [{ name: 'img@v1', device: memoryDevice(image) }, { name: 'broken', device: memoryDevice(image, 3 * 1024 * 1024) }] })
    port = (await server.start()).port
  })
  after(async () => { await server.stop(); await rm(dir, { recursive: true, force: true }) })

  it('qemu-img convert copies the export bit for bit, by empty name and by name, two clients at once', async () => {
    const a = join(dir, 'a.raw')
    const b = join(dir, 'b.raw')
    await Promise.all([
      exec('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', `nbd://127.0.0.1:${port}`, a]),
      exec('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', `nbd://127.0.0.1:${port}/img@v1`, b])
    ])
    assert.equal(sha(await readFile(a)), sha(image))
    assert.equal(sha(await readFile(b)), sha(image))
  })

  it('a failed device read reaches the client as EIO (qemu-img reports an I/O error)', async () => {
    await assert.rejects(exec('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', `nbd://127.0.0.1:${port}/broken`, join(dir, 'c.raw')]), /Input\/output error/)
    const c = await TestNbdClient.connect(port, 'broken')
    assert.equal((await c.request(0, 3 * 1024 * 1024, 4096)).error, NBD_EIO)
    assert.equal((await c.request(0, 0, 4096)).error, 0, 'the connection survives a failed read')
    c.close()
  })

  it('a read-only export answers WRITE with EPERM, out-of-range reads with EINVAL, and oversized writes close the connection', async () => {
    const c = await TestNbdClient.connect(port)
    assert.equal(c.size, image.byteLength)
    assert.ok((c.flags & 2) !== 0, 'READ_ONLY flag')
    assert.equal((await c.request(1, 0, 4, Buffer.from('abcd'))).error, NBD_EPERM)
    assert.equal((await c.request(0, image.byteLength - 10, 4096)).error, NBD_EINVAL)
    assert.equal((await c.request(0, 0, 64 * 1024 * 1024)).error, NBD_EINVAL)
    const { data } = await c.request(0, 12345, 1000)
    assert.deepEqual(data, Buffer.from(image.subarray(12345, 13345)))
    await assert.rejects(c.request(1, 0, 33 * 1024 * 1024), /connection closed/)
    assert.ok(c.closed)
  })

  it('nbdinfo lists the exports and their sizes (LIST, INFO)', async (t) => {
    const which = await exec('which', ['nbdinfo']).catch(() => undefined)
    if (which === undefined) { t.skip('nbdinfo (libnbd-bin) not installed'); return }
    const { stdout } = await exec('nbdinfo', ['--list', '--json', `nbd://127.0.0.1:${port}`])
    const listed = JSON.parse(stdout) as { exports: Array<{ 'export-name': string, 'export-size': number, 'is_read_only': boolean }> }
    assert.deepEqual(listed.exports.map(e => e['export-name']), ['img@v1', 'broken'])
    assert.equal(listed.exports[0]['export-size'], image.byteLength)
    assert.equal(listed.exports[0].is_read_only, true)
  })

  it('a second server on the same port fails with AddressInUseError', async () => {
    const other = createNbdServer({ exports: [{ name: 'x', device: memoryDevice(image) }], port })
    await assert.rejects(other.start(), (err: Error) => err instanceof AddressInUseError && /already in use/.test(err.message))
  })

  it('a copy-on-write overlay takes writes (qemu-io), leaves the base untouched and keeps them across reopen', async () => {
    const base = memoryDevice(image)
    const baseSha = sha(image)
    const odir = join(dir, 'overlay')
    let overlay = await createOverlay({ dir: odir, base, baseId: 'img-v1' })
    const rw = createNbdServer({ exports: [{ name: 'rw', device: overlay }] })
    const rwPort = (await rw.start()).port
    const url = `nbd://127.0.0.1:${rwPort}`
    await exec('qemu-io', ['-f', 'raw', url, '-c', 'write -P 0xab 70000 10000', '-c', 'write -P 0xcd 1048576 131072', '-c', 'flush'])
    await exec('qemu-io', ['-f', 'raw', '-r', url, '-c', 'read -P 0xab 70000 10000', '-c', 'read -P 0xcd 1048576 131072'])
    const c = await TestNbdClient.connect(rwPort)
    const { data } = await c.request(0, 60000, 30000)
    assert.deepEqual(data?.subarray(0, 10000), Buffer.from(image.subarray(60000, 70000)), 'bytes before the write come from the base')
    assert.deepEqual(data?.subarray(20000), Buffer.from(image.subarray(80000, 90000)), 'bytes after it too (same chunk)')
    c.close()
    await rw.stop()
    await overlay.close()
    assert.equal(sha(image), baseSha)
    overlay = await createOverlay({ dir: odir, base, baseId: 'img-v1' })
    const again = await overlay.read(1048576, 131072)
    assert.ok(again.every(b => b === 0xcd))
    assert.equal(overlay.writtenChunks, 1 + 2)
    await overlay.close()
    await assert.rejects(createOverlay({ dir: odir, base, baseId: 'img-v2' }), { code: 'ERR_OVERLAY_MISMATCH' })
  })
})
