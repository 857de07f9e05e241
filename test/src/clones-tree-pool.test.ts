import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { truncate, writeFile } from 'node:fs/promises'
import { connect, type Socket } from 'node:net'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runOk, seededBytes, sha256File } from '@cachecloud/fixtures'
import type { ExportInfo, OverlayInfo } from '@cachecloud/control'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { cli, cliJson } from './cli-run.js'
import { createTestCluster, type TestCluster } from './nodes.js'

const MiB = 1024 * 1024
const KiB = 1024

/** The image with `writes` applied in order: [offset, length, byte]. */
function expected (base: Buffer, writes: Array<[number, number, number]>): string {
  const b = Buffer.from(base)
  for (const [offset, length, byte] of writes) b.fill(byte, offset, offset + length)
  return createHash('sha256').update(b).digest('hex')
}

/** Issue 15: trees of clones (clone of a clone, over a committed version) and a pool of writable exports over one replica. */
describe('linked clones: trees and pools (real daemon, qemu-io, qemu-img)', () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint
  const base = seededBytes('tree-base', 8 * MiB)
  let n = 0

  /** Serves an overlay (writable, or read-only when frozen), applies qemu-io writes, reads the whole disk back; returns its SHA-256. */
  async function through (ref: string, overlay: string, writes: Array<[number, number, number]> = []): Promise<{ sha: string, e: ExportInfo }> {
    const e = await a.client.serve({ ref, port: 0, overlay, pull: false })
    try {
      if (writes.length > 0) await runOk('qemu-io', ['-f', 'raw', ...writes.flatMap(([o, l, b]) => ['-c', `write -P ${b} ${o} ${l}`]), '-c', 'flush', e.uri])
      const out = join(cluster.dir, `read-${n++}.raw`)
      await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', e.uri, out])
      return { sha: await sha256File(out), e }
    } finally { await a.client.unserve(e.id) }
  }

  before(async () => {
    cluster = await createTestCluster('clonetree')
    const file = join(cluster.dir, 'base.raw')
    await writeFile(file, base)
    a = await cluster.start('a')
    await a.client.importImage({ file, name: 'os', version: 'v1' }, () => {})
  })

  after(async () => { await cluster.close() })

  it('a three-level tree over a committed version reads back right at each node; one branch discarded or committed leaves the others', async () => {
    const w1: Array<[number, number, number]> = [[0, 256 * KiB, 1]]
    await through('os@v1', 'gold', w1)
    await a.client.commitOverlay({ name: 'gold', ref: 'os@v2' }, () => {})
    // level 1 over the committed version, level 2 a clone of it, level 3 a clone of that; a sibling at level 2
    const w2: Array<[number, number, number]> = [[1 * MiB, 256 * KiB, 2]]
    const w3: Array<[number, number, number]> = [[2 * MiB, 64 * KiB, 3], [1 * MiB + 64 * KiB, 64 * KiB, 0x33]]
    const w4: Array<[number, number, number]> = [[3 * MiB, 128 * KiB, 4], [0, 4 * KiB, 0x44]]
    const wb: Array<[number, number, number]> = [[5 * MiB, 256 * KiB, 5]]
    assert.equal((await through('os@v2', 'l1', w2)).sha, expected(base, [...w1, ...w2]))
    await a.client.cloneOverlay({ from: 'l1', name: 'l2' })
    await a.client.cloneOverlay({ from: 'l1', name: 'l2b' })
    assert.equal((await through('os@v2', 'l2', w3)).sha, expected(base, [...w1, ...w2, ...w3]))
    const r = await cli(a.dataDir, 'image', 'clone', 'l2', 'l3')
    assert.equal(r.code, 0, r.stderr)
    const l3 = await through('os@v2', 'l3', w4)
    assert.equal(l3.sha, expected(base, [...w1, ...w2, ...w3, ...w4]))
    assert.equal(l3.e.writable, true)
    assert.equal((await through('os@v2', 'l2b', wb)).sha, expected(base, [...w1, ...w2, ...wb]))
    // the frozen inner nodes are served read-only, their state unchanged by the clones' writes
    const l1 = await through('os@v2', 'l1')
    assert.equal(l1.e.writable, false)
    assert.equal(l1.sha, expected(base, [...w1, ...w2]))
    assert.equal((await through('os@v2', 'l2')).sha, expected(base, [...w1, ...w2, ...w3]))

    const tree = await cliJson<OverlayInfo[]>(a.dataDir, 'image', 'overlays')
    const by = new Map(tree.map(o => [o.name, o]))
    assert.deepEqual([by.get('l1')?.parent, by.get('l2')?.parent, by.get('l3')?.parent, by.get('l2b')?.parent], [null, 'l1', 'l2', 'l1'])
    assert.deepEqual(by.get('l1')?.clones, ['l2', 'l2b'])
    assert.equal(by.get('l1')?.frozen, true)
    assert.equal(by.get('l3')?.writtenBytes, 3 * 64 * KiB)
    assert.equal(by.get('l1')?.ref, 'os@v2')
    const text = await cli(a.dataDir, 'image', 'overlays')
    assert.match(text.stdout, /\n {2}└ l2 +os@v2 +l1 /)
    assert.match(text.stdout, /\n {4}└ l3 +os@v2 +l2 /)

    // an inner node cannot go while clones stand on it
    const refused = await cli(a.dataDir, 'image', 'discard-overlay', 'l1')
    assert.equal(refused.code, 11, refused.stderr)
    assert.match(refused.stderr, /overlay l1 is the base of l2, l2b/)
    // committing one branch, discarding another: the rest reads as before
    const c = await a.client.commitOverlay({ name: 'l3', ref: 'os@v3' }, () => {})
    assert.equal(c.parent, 'os@v2')
    const out = join(cluster.dir, 'v3.raw')
    await a.client.exportImage({ ref: 'os@v3', file: out }, () => {})
    assert.equal(await sha256File(out), expected(base, [...w1, ...w2, ...w3, ...w4]))
    await a.client.discardOverlay('l2b')
    assert.equal((await through('os@v2', 'l3')).sha, expected(base, [...w1, ...w2, ...w3, ...w4]))
    assert.equal((await through('os@v2', 'l1')).sha, expected(base, [...w1, ...w2]))
    const frozenCommit = await cli(a.dataDir, 'image', 'commit', 'l1', '--as', 'os@v2-l1')
    assert.equal(frozenCommit.code, 0, frozenCommit.stderr)
    // the last clone of l2 gone, l2 takes writes again
    await a.client.discardOverlay('l3')
    assert.equal((await a.client.overlays()).find(o => o.name === 'l2')?.frozen, false)
    const w5: Array<[number, number, number]> = [[7 * MiB, 64 * KiB, 7]]
    const l2 = await through('os@v2', 'l2', w5)
    assert.equal(l2.e.writable, true)
    assert.equal(l2.sha, expected(base, [...w1, ...w2, ...w3, ...w5]))
  })

  it('a pool of 20 writable exports over one replica keeps every clone\'s writes apart and reads each block from the store once', async (t) => {
    const count = 20
    const e = await a.client.serve({ ref: 'os@v1', port: 0, pool: { count, prefix: 'vm' }, pull: false })
    try {
      assert.ok(e.pool !== null)
      assert.equal(e.pool.members.length, count)
      t.diagnostic(`pool of ${count} ready in ${e.pool.readyMs.toFixed(1)} ms`)
      assert.ok(e.pool.readyMs < 1000, `${e.pool.readyMs} ms`)
      // every member may be opened by a client of several connections (nbdcopy opens 4 to a multi-conn export): all are greeted
      const port = Number(new URL(e.pool.members[0].uri).port)
      const sockets: Socket[] = []
      const greeted = await Promise.all(Array.from({ length: 4 * count }, async () => await new Promise<boolean>((resolve) => {
        // held open until every one is greeted: all at once, as the copies' connections are
        const socket = connect(port, '127.0.0.1')
        sockets.push(socket)
        let got = Buffer.alloc(0)
        socket.on('data', (d: Buffer) => { got = Buffer.concat([got, d]); if (got.byteLength >= 8) resolve(got.subarray(0, 8).toString() === 'NBDMAGIC') })
        socket.on('error', () => { resolve(false) })
        socket.on('close', () => { resolve(false) })
      })))
      for (const socket of sockets) socket.destroy()
      assert.equal(greeted.filter(Boolean).length, 4 * count)
      // each clone writes its own pattern at the same offsets, all at once
      const mine = (i: number): Array<[number, number, number]> => [[4 * MiB, 256 * KiB, 0x10 + i], [(5 + i % 3) * MiB + i * 4 * KiB, 4 * KiB, 0x80 + i]]
      await Promise.all(e.pool.members.map(async (m, i) => {
        await runOk('qemu-io', ['-f', 'raw', ...mine(i).flatMap(([o, l, b]) => ['-c', `write -P ${b} ${o} ${l}`]), '-c', 'flush', m.uri])
      }))
      const shas = await Promise.all(e.pool.members.map(async (m, i) => {
        const out = join(cluster.dir, `pool-${i}.raw`)
        // nbdcopy opens 4 connections to an export that allows several (multi-conn): 80 at once here
        await runOk('nbdcopy', [m.uri, out])
        return await sha256File(out)
      }))
      shas.forEach((sha, i) => { assert.equal(sha, expected(base, mine(i)), `clone ${i + 1}`) })
      assert.equal(new Set(shas).size, count)
      const after = (await a.client.exports()).find(x => x.id === e.id)?.pool
      assert.ok(after != null)
      t.diagnostic(`shared cache: ${JSON.stringify(after.cache)}`)
      // 20 full reads of an 8 MiB image: each block from the store once
      assert.ok(after.cache.baseReadBytes <= base.byteLength, `${after.cache.baseReadBytes} bytes read from the store`)
      assert.ok(after.cache.hits > after.cache.misses * 10)
      // the pool is served again after a restart, at the same address, each clone's writes kept
      await a.stop()
      a = await cluster.restart('a')
      const back = (await a.client.exports()).find(x => x.id === e.id)
      assert.equal(back?.pool?.count, count)
      const out = join(cluster.dir, 'pool-again.raw')
      await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', e.pool.members[6].uri, out])
      assert.equal(await sha256File(out), expected(base, mine(6)))
      const busy = await cli(a.dataDir, 'image', 'rebase', 'vm-1', 'os@v2', '--discard-writes')
      assert.equal(busy.code, 11, busy.stderr)
    } finally { await a.client.unserve(e.id) }
    // recompose: vm-1 moves to os@v2 and its writes are gone; vm-2 keeps its own
    const noFlag = await cli(a.dataDir, 'image', 'rebase', 'vm-1', 'os@v2')
    assert.equal(noFlag.code, 2, noFlag.stderr)
    const r = await cli(a.dataDir, 'image', 'rebase', 'vm-1', 'os@v2', '--discard-writes')
    assert.equal(r.code, 0, r.stderr)
    assert.equal((await through('os@v2', 'vm-1')).sha, expected(base, [[0, 256 * KiB, 1]]))
    const again = await a.client.serve({ ref: 'os@v1', port: 0, overlay: 'vm-2', pull: false })
    await a.client.unserve(again.id)
  })

  it('a pool over a large image is ready in under a second', async (t) => {
    const file = join(cluster.dir, 'huge.raw')
    await writeFile(file, seededBytes('huge-head', 1 * MiB))
    await truncate(file, 8 * 1024 * MiB)
    await a.client.importImage({ file, name: 'huge', version: 'v1' }, () => {})
    const e = await a.client.serve({ ref: 'huge@v1', port: 0, pool: { count: 20, prefix: 'big' }, pull: false })
    try {
      t.diagnostic(`20 clones of an 8 GiB image ready in ${e.pool?.readyMs.toFixed(1) ?? '?'} ms`)
      assert.ok(e.pool !== null && e.pool.readyMs < 1000)
    } finally { await a.client.unserve(e.id) }
  })
})
