import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { createControlClient, loadOrCreateToken, type ControlClient, type JobInfo } from '@cachecloud/control'
import { TempDirs, textLikeBytes, waitFor } from '@cachecloud/test-utils'
import { pino } from 'pino'
import { createDaemon, initDataDir, parseConfig, type CachePointConfig, type CachePointDaemon } from '../src/index.js'

const BLOCK = 256 * 1024

interface Node { daemon: CachePointDaemon, client: ControlClient, address: string, config: CachePointConfig }

async function launch (config: CachePointConfig): Promise<Node> {
  const daemon = createDaemon({ config, logger: pino({ level: 'silent' }) })
  const { controlUrl, addresses } = await daemon.start()
  const client = createControlClient({ url: controlUrl, token: await loadOrCreateToken(config.dataDir), pid: process.pid })
  return { daemon, client, address: addresses[0] as string, config }
}

/** Bytes of the pack files of a data directory's block store. */
async function packBytes (dataDir: string): Promise<number> {
  const dir = join(dataDir, 'store', 'packs')
  let total = 0
  for (const name of await readdir(dir)) total += (await stat(join(dir, name))).size
  return total
}

const recompressJobs = async (node: Node): Promise<JobInfo[]> => (await node.client.status()).jobs.filter(j => j.kind === 'recompress')

/** The job of `ref` done, and the version off the queue (it is listed as done and its old records reclaimed after the job). */
async function recompressed (node: Node, ref: string): Promise<void> {
  // the work runs at nice 19: on a machine kept busy by other tests it waits for idle time
  await waitFor(async () => {
    const status = await node.client.status()
    return status.store.recompression.pendingVersions === 0 && status.jobs.some(j => j.kind === 'recompress' && j.ref === ref && j.state === 'done')
  }, { timeoutMs: 180_000, what: `the recompression of ${ref}` })
}

describe('recompression at rest of the versions a node imports (config "restLevel")', () => {
  const dirs = new TempDirs()
  const nodes: Node[] = []

  after(async () => {
    await Promise.allSettled(nodes.map(async n => { await n.daemon.stop() }))
    await dirs.removeAll()
  })

  it('keeps an imported version\'s blocks at level 15 once imported: less on disk and on the wire, the same bytes out; a new version redoes only its new blocks; a restart redoes nothing', async () => {
    const seedDir = await dirs.make('recompress-seed-')
    const seedInit = await initDataDir(seedDir, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const seed = await launch(seedInit.config)
    nodes.push(seed)
    const v1 = Buffer.concat(Array.from({ length: 12 }, (_, i) => textLikeBytes(i + 1)))
    await writeFile(join(seedDir, 'v1.raw'), v1)
    await seed.client.importImage({ file: join(seedDir, 'v1.raw'), name: 'os', version: '1' }, () => {})
    await recompressed(seed, 'os@1')
    const status = await seed.client.status()
    const job = (await recompressJobs(seed))[0]
    assert.equal(job?.ref, 'os@1')
    assert.equal(job?.unit, 'blocks')
    assert.equal(job?.total, 12)
    assert.equal(status.store.recompression.level, 15, 'the default level')
    assert.equal(status.store.recompression.pendingVersions, 0)
    const saved = status.store.recompression.savedBytes
    assert.ok(saved > 0.1 * status.store.storedBytes, `saved ${saved} bytes, ${status.store.storedBytes} stored now`)
    const storedAtLevel3 = status.store.storedBytes + saved
    assert.ok(await packBytes(seedDir) < storedAtLevel3, 'the old records were reclaimed on disk')

    const edgeDir = await dirs.make('recompress-edge-')
    const edgeInit = await initDataDir(edgeDir, { listen: ['/ip4/127.0.0.1/tcp/0'], trustedPublishers: [seedInit.publisherKey] })
    const edge = await launch(edgeInit.config)
    nodes.push(edge)
    const pulled = await edge.client.pull({ ref: 'os@1', from: [seed.address] }, () => {})
    assert.ok(pulled.wireBytes < storedAtLevel3 - 0.5 * saved, `wire ${pulled.wireBytes} bytes against ${storedAtLevel3} at level 3`)
    assert.equal((await edge.client.status()).store.storedBytes, status.store.storedBytes, 'the edge keeps the form it was sent')
    assert.equal((await recompressJobs(edge)).length, 0, 'a node does not recompress what it pulled')
    const out = join(edgeDir, 'out.raw')
    await edge.client.exportImage({ ref: 'os@1', file: out }, () => {})
    assert.equal(createHash('sha256').update(await readFile(out)).digest('hex'), createHash('sha256').update(v1).digest('hex'))

    // v2 changes 3 of the 12 blocks: its recompression job covers those 3
    const v2 = Buffer.from(v1)
    for (const at of [2, 7, 11]) textLikeBytes(1000 + at).copy(v2, at * BLOCK)
    await writeFile(join(seedDir, 'v2.raw'), v2)
    await seed.client.importImage({ file: join(seedDir, 'v2.raw'), name: 'os', version: '2' }, () => {})
    await recompressed(seed, 'os@2')
    assert.equal((await recompressJobs(seed)).find(j => j.ref === 'os@2')?.total, 3)

    await seed.daemon.stop()
    nodes.splice(nodes.indexOf(seed), 1)
    const again = await launch(seedInit.config)
    nodes.push(again)
    await new Promise(resolve => setTimeout(resolve, 500))
    assert.deepEqual(await recompressJobs(again), [], 'recompressed.json: nothing is done twice')
    assert.equal((await again.client.status()).store.recompression.pendingVersions, 0)

    // imported at the level it would be kept at: nothing to do, then or at a restart
    await writeFile(join(seedDir, 'v3.raw'), Buffer.concat([textLikeBytes(3000), textLikeBytes(3001)]))
    await again.client.importImage({ file: join(seedDir, 'v3.raw'), name: 'os', version: '3', compressionLevel: 15 }, () => {})
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.deepEqual(await recompressJobs(again), [], 'an import at --compression-level 15 is not recompressed at 15')
  })

  it('"restLevel": 0 keeps blocks at the import\'s level; a level outside 0-19 is refused with one line', async () => {
    const dir = await dirs.make('recompress-off-')
    const { config } = await initDataDir(dir, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    const node = await launch({ ...config, restLevel: 0 })
    nodes.push(node)
    await writeFile(join(dir, 'v1.raw'), Buffer.concat([textLikeBytes(7), textLikeBytes(8)]))
    await node.client.importImage({ file: join(dir, 'v1.raw'), name: 'os', version: '1' }, () => {})
    await new Promise(resolve => setTimeout(resolve, 300))
    assert.deepEqual(await recompressJobs(node), [])
    assert.equal((await node.client.status()).store.recompression.savedBytes, 0)
    for (const bad of ['20', '-1', '2.5', '"15"']) {
      assert.throws(() => parseConfig(`{ "restLevel": ${bad} }`, 'config.json'), (err: Error & { code?: string }) =>
        err.code === 'ERR_INVALID_CONFIG' && err.message === 'config config.json: "restLevel" must be a zstd level from 0 (off) to 19')
    }
    assert.equal(parseConfig('{ "restLevel": 19 }', 'config.json').restLevel, 19)
  })
})
