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
    const listed = JSON.parse(stdout) as { exports: Array<{ 'export-name': string, 'export-size': number, is_read_only: boolean }> }
    assert.deepEqual(listed.exports.map(e => e['export-name']), ['img@v1', 'broken'])
    assert.equal(listed.exports[0]['export-size'], image.byteLength)
    assert.equal(listed.exports[0].is_read_only, true)
  })

  it('a second server on the same port fails with AddressInUseError', async () => {
    const other = createNbdServer({ exports: [{ name: 'x', device: memoryDevice(image) }], port })
    await assert.rejects(other.start(), (err: Error) => err instanceof AddressInUseError && /already in use/.test(err.message))
  })

  it('DISC answers the requests in progress first; extra clients over maxClients and silent clients are closed', async () => {
    let release: (() => void) | undefined
    const slow: BlockDevice = {
      size: 1 << 20, async read (
        _o,
        l
      ) { await new Promise<void>(resolve => { release = resolve }); return new Uint8Array(l).fill(7) }
    }
    const s = createNbdServer({ exports: [{ name: 's', device: slow }], maxClients: 1, handshakeTimeoutMs: 300 })
    const p = (await s.start()).port
    const c = await TestNbdClient.connect(p)
    const reply = c.request(0, 0, 4096)
    await new Promise(resolve => setTimeout(resolve, 50))
    // a second client is refused while the first is connected
    const { connect } = await import('node:net')
    const extra = connect(p, '127.0.0.1')
    await new Promise<void>(resolve => { extra.on('close', () => { resolve() }); extra.on('error', () => {}) })
    // DISC while a read is in progress: the read is answered, then the connection closes
    const h = Buffer.alloc(28); h.writeUInt32BE(0x25609513, 0); h.writeUInt16BE(2, 6)
    c.socket.write(h)
    release?.()
    const { error, data } = await reply
    assert.equal(error, 0)
    assert.ok(data?.every(b => b === 7))
    await new Promise(resolve => setTimeout(resolve, 100))
    assert.ok(c.closed)
    // a client that never finishes the handshake is dropped after handshakeTimeoutMs
    const idle = connect(p, '127.0.0.1')
    const t0 = Date.now()
    await new Promise<void>(resolve => { idle.on('close', () => { resolve() }); idle.on('error', () => {}); idle.resume() })
    assert.ok(Date.now() - t0 < 2000)
    await s.stop()
  })

  it('LIST and ABORT with a raw client; an unknown export name in GO is refused with a message', async () => {
    const { connect } = await import('node:net')
    const socket = connect(port, '127.0.0.1')
    const chunks: Buffer[] = []
    socket.on('data', (d: Buffer) => chunks.push(d))
    await new Promise(resolve => socket.once('connect', resolve))
    const opt = (
      o: number,
      data = Buffer.alloc(0)
    ): Buffer => {
      const h = Buffer.alloc(16); h.writeBigUInt64BE(
        0x49484156454f5054n,
        0
      ); h.writeUInt32BE(o, 8); h.writeUInt32BE(data.byteLength, 12); return Buffer.concat([h, data])
    }
    const go = Buffer.alloc(4 + 4 + 2); go.writeUInt32BE(4, 0); go.write('nope', 4); go.writeUInt16BE(0, 8)
    socket.write(Buffer.concat([Buffer.from([0, 0, 0, 3]), opt(3), opt(7, go), opt(2)]))
    await new Promise(resolve => socket.once('close', resolve))
    const all = Buffer.concat(chunks)
    const text = all.toString('latin1')
    assert.ok(text.includes('img@v1') && text.includes('broken'), 'LIST names both exports')
    assert.ok(text.includes('no export named "nope"'))
    // the last reply is the ACK of ABORT
    assert.equal(all.readUInt32BE(all.byteLength - 12), 2)
    assert.equal(all.readUInt32BE(all.byteLength - 8), 1)
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
    // a write across a chunk boundary, covering neither chunk whole, keeps the rest of both from the base
    const o2 = await createOverlay({ dir: join(dir, 'overlay2'), base, baseId: 'img-v1' })
    await o2.write(3 * 65536 - 100, Buffer.alloc(200, 0xee))
    const around = await o2.read(2 * 65536, 2 * 65536)
    const want = Buffer.from(image.subarray(2 * 65536, 4 * 65536))
    want.fill(0xee, 65536 - 100, 65536 + 100)
    assert.deepEqual(Buffer.from(around), want)
    assert.equal(o2.writtenChunks, 2)
    await o2.close()
  })
})
