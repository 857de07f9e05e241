/**
 * Blocks kept compressed at rest, or raw: the same real OS image both ways in
 * one run (a Debian root filesystem from the os-update cache when there is
 * one, else the fixtures' ext4 image). Per way: disk used, import rate,
 * a 2-node pull (both in this process, blocks/1.1.0), and the latency of a
 * local block read (what an NBD read of a held block costs: read, CRC or
 * decode, SHA-256). Figures go in the README's "Compression" table.
 *
 * Run: node bench/dist/src/compression.js
 */
import '@cachecloud/core/polyfill'
import { createHash } from 'node:crypto'
import { mkdtemp, open, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createCatalog, importImage, type Catalog } from '@cachecloud/image'
import { makeExt4Image, rootfsCacheEntry } from '@cachecloud/fixtures'
import { createTrustStore, formatPublicKey, generatePublisherKey, type PublisherKey } from '@cachecloud/manifest'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { createTransfer, type Transfer } from '@cachecloud/transfer'
import type { BenchResult } from './types.js'

interface Node { blockstore: Blockstore, catalog: Catalog, libp2p: CachePointLibp2p, transfer: Transfer, stop: () => Promise<void> }

async function startNode (dir: string, level: number, key: PublisherKey): Promise<Node> {
  const blockstore = createBlockstore({ path: join(dir, 'blocks'), compressionLevel: level })
  await blockstore.start()
  const catalog = createCatalog({ path: join(dir, 'catalog'), blockstore })
  await catalog.start()
  const libp2p = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const transfer = createTransfer({ libp2p, blockstore, catalog, trust: createTrustStore([formatPublicKey(key.publicKey)]) })
  await transfer.start()
  return {
    blockstore,
    catalog,
    libp2p,
    transfer,
    stop: async () => { await transfer.stop(); await libp2p.stop(); await catalog.stop(); await blockstore.stop() }
  }
}

/** The image to measure: the OS update benchmark's v1 when it was built on this machine. */
async function osImage (dir: string): Promise<{ path: string, what: string }> {
  try {
    const entry = await rootfsCacheEntry()
    const path = join(entry.dir, 'v1.raw')
    await stat(join(entry.dir, 'complete.json'))
    return { path, what: 'Debian 12 minbase root filesystem, 2 GiB ext4 (os-update cache)' }
  } catch {
    const image = await makeExt4Image({ path: join(dir, 'fixture.raw'), sizeMiB: 512, seed: 'compression-bench' })
    return { path: image.path, what: 'fixtures ext4 image, 512 MiB (no os-update cache: run BENCH=os-update as root first)' }
  }
}

async function duBytes (path: string): Promise<number> {
  const { execFileSync } = await import('node:child_process')
  return Number(execFileSync('du', ['-s', '-B1', path], { encoding: 'utf8' }).split('\t')[0])
}

interface Way {
  level: number,
  diskBytes: number,
  importMBps: number,
  pullMBps: number,
  pullCpuPerGiB: number,
  wireBytes: number,
  rawBytes: number,
  readP50us: number,
  readP95us: number
}

async function measure (file: string, level: number, key: PublisherKey): Promise<Way> {
  const dir = await mkdtemp(join(tmpdir(), `cc-bench-compression-${level}-`))
  const seed = await startNode(join(dir, 'seed'), level, key)
  const edge = await startNode(join(dir, 'edge'), level, key)
  try {
    let t = performance.now()
    const imported = await importImage({ file, name: 'os', version: 'v1', blockstore: seed.blockstore, catalog: seed.catalog, key })
    const importMBps = imported.stats.newBytes / 1e6 / ((performance.now() - t) / 1000)
    const diskBytes = await duBytes(join(dir, 'seed', 'blocks'))
    const cpu0 = process.cpuUsage()
    t = performance.now()
    const pulled = await edge.transfer.pull({ ref: { name: 'os', version: 'v1' }, peers: [seed.libp2p.getMultiaddrs()[0] as never] })
    const pullMs = performance.now() - t
    const cpu = process.cpuUsage(cpu0)
    // local reads of held blocks, in random order, one at a time (an NBD read's store cost)
    const cids = imported.manifest.blocks.filter(c => c !== null)
    const samples: number[] = []
    for (let i = 0; i < Math.min(512, cids.length); i++) {
      const cid = cids[(i * 7919) % cids.length]
      if (cid === null || cid === undefined) continue
      const r0 = performance.now()
      await edge.blockstore.get(cid)
      samples.push((performance.now() - r0) * 1000)
    }
    samples.sort((a, b) => a - b)
    return {
      level,
      diskBytes,
      importMBps,
      pullMBps: pulled.fetchedBytes / 1e6 / (pullMs / 1000),
      pullCpuPerGiB: (cpu.user + cpu.system) / 1e6 / (pulled.fetchedBytes / 2 ** 30),
      wireBytes: pulled.wireBytes,
      rawBytes: pulled.fetchedBytes,
      readP50us: samples[Math.floor(samples.length / 2)] ?? 0,
      readP95us: samples[Math.floor(samples.length * 0.95)] ?? 0
    }
  } finally {
    await Promise.all([seed.stop(), edge.stop()])
    await rm(dir, { recursive: true, force: true })
  }
}

/** node:crypto SHA-256 over the file's non-zero 256 KiB blocks: the import's baseline. */
async function shaRate (file: string): Promise<number> {
  const handle = await open(file, 'r')
  const block = Buffer.alloc(256 * 1024)
  const zero = Buffer.alloc(256 * 1024)
  const t = performance.now()
  let hashed = 0
  try {
    for (;;) {
      const { bytesRead } = await handle.read(block, 0, block.byteLength, null)
      if (bytesRead === 0) break
      const data = block.subarray(0, bytesRead)
      if (data.equals(zero.subarray(0, bytesRead))) continue
      createHash('sha256').update(data).digest()
      hashed += bytesRead
    }
  } finally {
    await handle.close()
  }
  return hashed / 1e6 / ((performance.now() - t) / 1000)
}

export async function run (): Promise<BenchResult[]> {
  const scratch = await mkdtemp(join(tmpdir(), 'cc-bench-compression-img-'))
  try {
    const { path, what } = await osImage(scratch)
    const key = generatePublisherKey()
    const sha = await shaRate(path) // also brings the file into the page cache, so neither way pays the first read
    const raw = await measure(path, 0, key)
    const zstd = await measure(path, 3, key)
    const mb = (n: number): string => `${(n / 1e6).toFixed(1)} MB`
    return [
      { name: 'at rest: disk used, zstd -3 / raw', value: zstd.diskBytes / 1e6, unit: 'MB', baselineName: 'raw at rest', baseline: raw.diskBytes / 1e6, ratio: zstd.diskBytes / raw.diskBytes, goal: '< 1', met: zstd.diskBytes < raw.diskBytes, note: what },
      { name: 'at rest: import rate, zstd -3', value: zstd.importMBps, unit: 'MB/s', baselineName: 'raw at rest', baseline: raw.importMBps, ratio: zstd.importMBps / raw.importMBps, note: `node:crypto SHA-256 of the same blocks ${sha.toFixed(0)} MB/s` },
      { name: 'at rest: 2-node pull rate (one process), zstd -3', value: zstd.pullMBps, unit: 'MB/s', baselineName: 'raw at rest', baseline: raw.pullMBps, ratio: zstd.pullMBps / raw.pullMBps, goal: '>= 1 (the LAN rate must not fall)', met: zstd.pullMBps >= raw.pullMBps, note: `wire ${mb(zstd.wireBytes)} vs ${mb(raw.wireBytes)} for ${mb(zstd.rawBytes)} of blocks; CPU ${zstd.pullCpuPerGiB.toFixed(2)} vs ${raw.pullCpuPerGiB.toFixed(2)} s/GiB (both nodes)` },
      { name: 'at rest: held-block read latency p50 (NBD local read), zstd -3', value: zstd.readP50us, unit: 'us', baselineName: 'raw at rest', baseline: raw.readP50us, ratio: zstd.readP50us / raw.readP50us, note: `p95 ${zstd.readP95us.toFixed(0)} vs ${raw.readP95us.toFixed(0)} us` }
    ]
  } finally {
    await rm(scratch, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) process.stdout.write(`${r.name}: ${r.value.toFixed(1)} ${r.unit} vs ${r.baseline?.toFixed(1) ?? ''} (${r.ratio?.toFixed(2) ?? ''}) ${r.note ?? ''}\n`)
}
