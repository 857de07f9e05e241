/**
 * `cachepoint check --read-data` throughput (the block store's verify: every
 * record read pack by pack, decoded, SHA-256 against its CID) beside the
 * machine's read-and-SHA-256 rate measured in the same run: the same pack
 * files read in 8 MiB reads, a node:crypto SHA-256 per 256 KiB. Two stores:
 * incompressible blocks (kept raw) and compressible ones (kept as zstd
 * frames, so verify also decodes). Both read from the page cache (the
 * files were just written); issue 14's goal is >= 0.7x.
 *
 * Run: node bench/dist/src/check.js
 */
import '@cachecloud/core/polyfill'
import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, open, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { makeSparseImage } from '@cachecloud/fixtures'
import { createCatalog, importImage } from '@cachecloud/image'
import { generatePublisherKey } from '@cachecloud/manifest'
import type { BenchResult } from './types.js'

const MiB = 1024 * 1024
const IMAGE_BYTES = Number(process.env.CHECK_BENCH_MIB ?? 512) * MiB
const BLOCK = 256 * 1024
const READ = 8 * MiB
const ROUNDS = 3

/** Every 4 KiB: 1400 random bytes then zeros, about what ext4 content compresses to at zstd -3 (2.9x). */
async function compressibleImage (path: string): Promise<void> {
  const handle = await open(path, 'w')
  try {
    for (let at = 0; at < IMAGE_BYTES; at += READ) {
      const chunk = Buffer.alloc(READ)
      for (let i = 0; i < READ; i += 4096) randomBytes(1400).copy(chunk, i)
      await handle.write(chunk, 0, READ, at)
    }
  } finally {
    await handle.close()
  }
}

async function storeWith (dir: string, image: string, level: number): Promise<Blockstore> {
  const blockstore = createBlockstore({ path: join(dir, 'store'), compressionLevel: level })
  await blockstore.start()
  const catalog = createCatalog({ path: join(dir, 'catalog'), blockstore })
  await catalog.start()
  await importImage({ file: image, name: 'bench', version: 'v1', blockSize: BLOCK, compressionLevel: level, blockstore, catalog, key: generatePublisherKey() })
  await blockstore.sync()
  return blockstore
}

/** Bytes per second of reading every pack file and hashing it per 256 KiB with node:crypto. */
async function readAndHash (packsDir: string): Promise<{ bytes: number, rate: number }> {
  const started = performance.now()
  let bytes = 0
  const buf = Buffer.allocUnsafe(READ)
  for (const name of (await readdir(packsDir)).filter(f => f.endsWith('.pack')).sort()) {
    const handle = await open(join(packsDir, name), 'r')
    try {
      for (;;) {
        const { bytesRead } = await handle.read(buf, 0, READ, null)
        if (bytesRead === 0) break
        for (let at = 0; at < bytesRead; at += BLOCK) createHash('sha256').update(buf.subarray(at, Math.min(bytesRead, at + BLOCK))).digest()
        bytes += bytesRead
      }
    } finally {
      await handle.close()
    }
  }
  return { bytes, rate: bytes / ((performance.now() - started) / 1000) }
}

async function measure (label: string, dir: string, image: string, level: number): Promise<BenchResult[]> {
  const store = await storeWith(dir, image, level)
  const packs = join(dir, 'store', 'packs')
  let base = 0
  let verify = 0
  let decoded = 0
  let stored = 0
  try {
    for (let round = 0; round < ROUNDS; round++) {
      base = Math.max(base, (await readAndHash(packs)).rate)
      const report = await store.verify()
      if (report.corrupt.length > 0) throw new Error(`${report.corrupt.length} corrupt blocks in a fresh store`)
      const seconds = report.durationMs / 1000
      stored = report.storedBytes
      verify = Math.max(verify, report.storedBytes / seconds)
      decoded = Math.max(decoded, report.rawBytes / seconds)
    }
  } finally {
    await store.stop()
  }
  const ratio = verify / base
  // A compressed store holds fewer bytes than the check must hash (every block is hashed decoded): per byte hashed, the ceiling is the same read-and-hash rate.
  const perHashedByte: BenchResult[] = stored === 0 || decoded <= verify * 1.01
    ? []
    : [{
        name: `check --read-data, ${label}, per decoded byte hashed`,
        value: decoded / MiB,
        unit: 'MiB/s',
        baselineName: 'read + node:crypto SHA-256, per byte hashed',
        baseline: base / MiB,
        ratio: decoded / base,
        goal: '>= 0.70',
        met: decoded / base >= 0.7,
        note: `the check hashes ${(decoded / verify).toFixed(2)}x the bytes on disk and decodes them on the codec threads`
      }]
  return [{
    name: `check --read-data, ${label}`,
    value: verify / MiB,
    unit: 'MiB/s',
    baselineName: 'read + node:crypto SHA-256 of the pack files',
    baseline: base / MiB,
    ratio,
    goal: '>= 0.70',
    met: ratio >= 0.7,
    note: `${(stored / MiB).toFixed(0)} MiB on disk, ${(decoded / MiB).toFixed(0)} MiB/s of decoded block bytes; best of ${ROUNDS}, page cache warm`
  }, ...perHashedByte]
}

export async function run (): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-check-'))
  try {
    const random = join(dir, 'random.raw')
    await makeSparseImage(random, IMAGE_BYTES, [{ offset: 0, length: IMAGE_BYTES }], 'check-bench')
    const raw = await measure('incompressible blocks (kept raw)', join(dir, 'raw'), random, 0)
    await rm(random)
    const compressible = join(dir, 'compressible.raw')
    await compressibleImage(compressible)
    const zstd = await measure('compressible blocks (zstd -3, decoded)', join(dir, 'zstd'), compressible, 3)
    return [...raw, ...zstd]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) process.stdout.write(`${r.name}: ${r.value.toFixed(0)} ${r.unit} vs ${r.baseline?.toFixed(0)} ${r.unit} (${r.baselineName}), ratio ${r.ratio?.toFixed(2)}; ${r.note ?? ''}\n`)
}
