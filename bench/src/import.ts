/**
 * Import throughput against the machine's raw SHA-256 rate over the same
 * bytes (node:crypto and Debian's sha256sum, both reading the same cached
 * file), and peak memory while importing sparse images of growing size.
 * Goals (issue 2): import >= 70% of raw hashing speed; memory flat in image size.
 */
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdtemp, open, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createBlockstore } from '@cachecloud/blockstore'
import { createCatalog, importImage } from '@cachecloud/image'
import { generatePublisherKey } from '@cachecloud/manifest'
import { findTool, makeSparseImage, seededBytes } from '@cachecloud/fixtures'
import type { BenchResult } from './types.js'

const run$ = promisify(execFile)
const MiB = 1024 * 1024
const DENSE_MIB = Number(process.env.BENCH_IMPORT_MIB ?? 1024)

async function writeDense (path: string, mib: number): Promise<void> {
  const handle = await open(path, 'w')
  try {
    const piece = seededBytes('bench-import', 8 * MiB)
    for (let i = 0; i < mib / 8; i++) {
      piece[0] = i & 0xff // every 8 MiB differs, so nothing dedupes
      piece[1] = i >> 8
      await handle.write(piece)
    }
  } finally {
    await handle.close()
  }
}

async function hashFile (path: string): Promise<number> {
  const started = performance.now()
  const handle = await open(path, 'r')
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(MiB)
  let total = 0
  try {
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null)
      if (bytesRead === 0) break
      hash.update(buffer.subarray(0, bytesRead))
      total += bytesRead
    }
  } finally {
    await handle.close()
  }
  hash.digest()
  return total / ((performance.now() - started) / 1000)
}

async function importRate (dir: string, file: string, blockSize?: number): Promise<number> {
  const store = join(dir, `store-${blockSize ?? 'default'}`)
  const blockstore = createBlockstore({ path: store })
  await blockstore.start()
  const catalog = createCatalog({ path: join(store, 'catalog'), blockstore })
  await catalog.start()
  const { stats } = await importImage({ file, name: 'bench', version: 'v1', blockstore, catalog, key: generatePublisherKey(), blockSize })
  await catalog.stop()
  await blockstore.stop()
  await rm(store, { recursive: true, force: true })
  return stats.size / (stats.durationMs / 1000)
}

/** restic (Debian) backing up the same file into a fresh repository: content-defined chunking, SHA-256, encryption. */
async function resticRate (dir: string, file: string, bytes: number): Promise<number | undefined> {
  if (await findTool('restic') === undefined) return undefined
  const env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: join(dir, 'restic') }
  await run$('restic', ['init', '--quiet'], { env })
  const started = performance.now()
  await run$('restic', ['backup', '--quiet', file], { env, maxBuffer: 1 << 22 })
  const rate = bytes / ((performance.now() - started) / 1000)
  await rm(join(dir, 'restic'), { recursive: true, force: true })
  return rate
}

async function peakRss (file: string): Promise<number> {
  const child = fileURLToPath(new URL('./import-child.js', import.meta.url))
  const { stdout } = await run$(process.execPath, [child, file], { maxBuffer: 1 << 20 })
  return (JSON.parse(stdout) as { maxRssBytes: number }).maxRssBytes
}

export async function run (): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-import-'))
  const results: BenchResult[] = []
  try {
    const dense = join(dir, 'dense.raw')
    await writeDense(dense, DENSE_MIB)
    await hashFile(dense) // warm the page cache
    const sha = Math.max(await hashFile(dense), await hashFile(dense))
    const started = performance.now()
    await run$('sha256sum', [dense])
    const sha256sum = (DENSE_MIB * MiB) / ((performance.now() - started) / 1000)
    const imported = await importRate(dir, dense)
    results.push({
      name: `import ${DENSE_MIB} MiB (no holes, default block size)`,
      value: imported / 1e6,
      unit: 'MB/s',
      baselineName: 'node:crypto SHA-256 read+hash',
      baseline: sha / 1e6,
      ratio: imported / sha,
      goal: '>= 0.70',
      met: imported / sha >= 0.7,
      note: `sha256sum on the same file: ${(sha256sum / 1e6).toFixed(0)} MB/s (import is ${(imported / sha256sum).toFixed(2)}x sha256sum); import also writes every block to the store and fsyncs at commit`
    })
    const restic = await resticRate(dir, dense, DENSE_MIB * MiB)
    if (restic !== undefined) {
      results.push({ name: `import ${DENSE_MIB} MiB vs restic backup of the same file`, value: imported / 1e6, unit: 'MB/s', baselineName: 'restic backup (Debian)', baseline: restic / 1e6, ratio: imported / restic })
    }
    const imported1M = await importRate(dir, dense, MiB)
    results.push({ name: `import ${DENSE_MIB} MiB, 1 MiB blocks`, value: imported1M / 1e6, unit: 'MB/s', baselineName: 'node:crypto SHA-256 read+hash', baseline: sha / 1e6, ratio: imported1M / sha })
    await rm(dense)

    const rss: Array<[number, number]> = []
    for (const gib of [1, 4, 16]) {
      const sparse = join(dir, `sparse-${gib}.raw`)
      const size = gib * 1024 * MiB
      // 64 MiB of data spread over the image, the rest holes.
      await makeSparseImage(sparse, size, Array.from({ length: 8 }, (_, i) => ({ offset: Math.floor(i * size / 8), length: 8 * MiB })), `mem-${gib}`)
      rss.push([gib, await peakRss(sparse)])
      await rm(sparse)
    }
    const [small, large] = [rss[0], rss[rss.length - 1]]
    results.push({
      name: `peak RSS importing a ${large[0]} GiB sparse image`,
      value: large[1] / MiB,
      unit: 'MiB',
      baselineName: `${small[0]} GiB sparse image`,
      baseline: small[1] / MiB,
      ratio: large[1] / small[1],
      goal: '<= 1.10 (flat)',
      met: large[1] / small[1] <= 1.1,
      note: `peak RSS by image size: ${rss.map(([g, b]) => `${g} GiB ${(b / MiB).toFixed(0)} MiB`).join(', ')}`
    })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return results
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) process.stdout.write(JSON.stringify(r) + '\n')
}
