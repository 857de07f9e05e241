import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { stat } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeExt4Image, runOk, sha256File } from '@cachecloud/fixtures'
import type { ExportInfo } from '@cachecloud/control'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { cli } from './cli-run.js'
import { createTestCluster, type TestCluster } from './nodes.js'

// Issue 12: NBD has no authentication, so an export is served by default on a
// Unix socket only the daemon's user may open (0600, in a 0700 directory of
// the data directory); TCP only when asked (--nbd HOST:PORT). Overlays (a
// guest's writes) are 0600 too. Real daemon, real qemu-img, qemu-io, nbdinfo.

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

describe('NBD exports on a 0600 Unix socket by default (real daemon, qemu-img, nbdinfo)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint
  let image: string
  let imageHash: string
  const size = 32 * 1024 * 1024

  before(async () => {
    cluster = await createTestCluster('nbdunix')
    image = join(cluster.dir, 'os.raw')
    await makeExt4Image({ path: image, sizeMiB: 32, seed: 'nbd-unix' })
    imageHash = await sha256File(image)
    a = await cluster.start('a')
    await a.client.importImage({ file: image, name: 'os', version: 'v1' }, () => {})
  })

  after(async () => { await cluster.close() })

  it('`cachepoint image serve NAME@VERSION` with no --nbd serves on a socket in the data directory and prints its nbd+unix URL', async () => {
    const served = await cli(a.dataDir, 'image', 'serve', 'os@v1')
    assert.equal(served.code, 0, served.stderr)
    const socket = join(a.dataDir, 'nbd', 'os@v1.sock')
    assert.match(served.stdout, new RegExp(`nbd\\+unix:///\\?socket=${socket.replace(/[.+?]/g, '\\$&')}`))
    assert.ok((await stat(socket)).isSocket())
    assert.equal(await mode(socket), 0o600, 'only the daemon\'s user may connect')
    assert.equal(await mode(join(a.dataDir, 'nbd')), 0o700, 'nor enter the sockets\' directory')

    const [e] = await a.client.exports()
    assert.equal(e.socket, socket)
    assert.equal(e.uri, `nbd+unix:///?socket=${socket}`)
    assert.equal(e.port, 0, 'no TCP port')
    const info = await runOk('nbdinfo', ['--size', e.uri])
    assert.equal(Number(info.stdout.trim()), size)
    const out = join(cluster.dir, 'copy.raw')
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', e.uri, out])
    assert.equal(await sha256File(out), imageHash, 'bit-identical through the socket')

    const twice = await cli(a.dataDir, 'image', 'serve', 'os@v1')
    assert.notEqual(twice.code, 0)
    assert.match(twice.stderr, /already served at .*os@v1\.sock/)
    assert.equal(twice.stderr.trim().split('\n').length, 1, 'one line')
  })

  it('serves again on the same socket after a crash and restart (the stale socket replaced), and unserve by the socket\'s name removes it', async () => {
    const socket = join(a.dataDir, 'nbd', 'os@v1.sock')
    await a.kill() // a crash leaves the socket file behind: the next start replaces it
    assert.ok(existsSync(socket), 'a stale socket is left')
    a = await cluster.restart('a')
    const [e] = await a.client.exports()
    assert.equal(e?.socket, socket)
    assert.equal(await mode(socket), 0o600)
    assert.equal(Number((await runOk('nbdinfo', ['--size', e.uri])).stdout.trim()), size)
    const stopped = await cli(a.dataDir, 'image', 'unserve', 'os@v1.sock')
    assert.equal(stopped.code, 0, stopped.stderr)
    assert.equal(existsSync(socket), false, 'the socket is removed')
    assert.deepEqual(await a.client.exports(), [])
  })

  it('a writable export\'s overlay files are 0600 in a 0700 directory; writes read back through the socket', async () => {
    const e: ExportInfo = await a.client.serve({ ref: 'os@v1', overlay: 'vm1' })
    assert.equal(e.socket, join(a.dataDir, 'nbd', 'os@v1.overlay-vm1.sock'))
    assert.equal(await mode(e.socket), 0o600)
    await runOk('qemu-io', ['-f', 'raw', e.uri, '-c', 'write -P 0x5a 1048576 65536', '-c', 'flush'])
    await runOk('qemu-io', ['-f', 'raw', '-r', e.uri, '-c', 'read -P 0x5a 1048576 65536'])
    const dir = join(a.dataDir, 'overlays', 'vm1')
    assert.equal(await mode(dir), 0o700)
    for (const file of ['data', 'map', 'meta.json']) assert.equal(await mode(join(dir, file)), 0o600, `overlay ${file}`)
    await a.client.unserve(e.id)
  })

  it('TCP only when asked: --nbd HOST:PORT still serves nbd://', async () => {
    const served = await cli(a.dataDir, '--json', 'image', 'serve', 'os@v1', '--nbd', '127.0.0.1:0')
    assert.equal(served.code, 0, served.stderr)
    const e = JSON.parse(served.stdout) as ExportInfo
    assert.match(e.uri, /^nbd:\/\/127\.0\.0\.1:\d+$/)
    assert.equal(e.socket, null)
    assert.equal(Number((await runOk('nbdinfo', ['--size', e.uri])).stdout.trim()), size)
    const badHost = await a.client.serve({ ref: 'os@v1', host: '0.0.0.0' }).catch((err: Error & { code?: string }) => err)
    assert.equal((badHost as { code?: string }).code, 'ERR_BAD_REQUEST', 'a host without a port is refused, not served on all interfaces')
    await a.client.unserve(e.id)
  })
})
