/**
 * Block size measurement: on a real 512 MiB ext4 image and an OS-like update
 * of ~16 MiB of files, for each candidate block size: the bytes a holder of v1
 * must fetch for v2 (against the file bytes actually written), the manifest
 * size, and import throughput (against reading + SHA-256 of the same file).
 *
 * Run: node bench/dist/src/block-size.js
 */
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { createBlockstore } from '@cachecloud/blockstore'
import { makeExt4Image, requireTools, sha256File, updateImage } from '@cachecloud/fixtures'
import { createCatalog, diffManifests, importImage } from '@cachecloud/image'
import { encodeManifest, generatePublisherKey } from '@cachecloud/manifest'
import type { BenchResult } from './types.js'

const KiB = 1024
const MiB = 1024 * KiB
const BLOCK_SIZES = [16 * KiB, 64 * KiB, 128 * KiB, 256 * KiB, 512 * KiB, MiB, 4 * MiB]
const IMAGE_MIB = 512

export interface BlockSizeRow {
  blockSize: number
  deltaBytes: number
  changedBytes: number
  manifestBytes: number
  importMBps: number
  updateImportMBps: number
  baselineMBps: number
}

function label (blockSize: number): string {
  return blockSize >= MiB ? `${blockSize / MiB}M` : `${blockSize / KiB}K`
}

/** Measures every block size; the rows feed both run() and the printed table. */
export async function measure (): Promise<BlockSizeRow[]> {
  await requireTools(['mke2fs', 'debugfs'])
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-block-size-'))
  try {
    const v1 = join(dir, 'v1.raw')
    const v2 = join(dir, 'v2.raw')
    await makeExt4Image({ path: v1, sizeMiB: IMAGE_MIB, seed: 'bench-block-size' })
    await copyFile(v1, v2)
    const update = await updateImage(v2, { seed: 'bench-update', changedBytes: 12 * MiB, newFiles: 4, newBytes: 4 * MiB })

    // Baseline, also warming the page cache so every import reads from memory alike.
    const size = IMAGE_MIB * MiB
    let started = performance.now()
    await sha256File(v1)
    const baselineMBps = size / 1e6 / ((performance.now() - started) / 1000)
    await sha256File(v2)

    const key = generatePublisherKey()
    const rows: BlockSizeRow[] = []
    for (const blockSize of BLOCK_SIZES) {
      const store = join(dir, `store-${blockSize}`)
      const blockstore = createBlockstore({ path: join(store, 'blocks') })
      await blockstore.start()
      const catalog = createCatalog({ path: join(store, 'catalog'), blockstore })
      await catalog.start()
      try {
        started = performance.now()
        const first = await importImage({ file: v1, name: 'os', version: 'v1', blockstore, catalog, key, blockSize })
        const importMBps = size / 1e6 / ((performance.now() - started) / 1000)
        started = performance.now()
        const second = await importImage({ file: v2, name: 'os', version: 'v2', blockstore, catalog, key, blockSize })
        const updateImportMBps = size / 1e6 / ((performance.now() - started) / 1000)
        rows.push({
          blockSize,
          deltaBytes: diffManifests(first.manifest, second.manifest).fetchBytes,
          changedBytes: update.writtenBytes,
          manifestBytes: encodeManifest(second.manifest).bytes.byteLength,
          importMBps,
          updateImportMBps,
          baselineMBps
        })
      } finally {
        await catalog.stop()
        await blockstore.stop()
        await rm(store, { recursive: true, force: true })
      }
    }
    return rows
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

export async function run (): Promise<BenchResult[]> {
  return (await measure()).flatMap((row) => [
    {
      name: `block size ${label(row.blockSize)}: delta for a file update`,
      value: row.deltaBytes,
      unit: 'bytes',
      baselineName: 'file bytes written by the update',
      baseline: row.changedBytes,
      ratio: row.deltaBytes / row.changedBytes,
      note: 'lower is better; 1.0 would be a perfect delta'
    },
    {
      name: `block size ${label(row.blockSize)}: manifest size`,
      value: row.manifestBytes,
      unit: 'bytes',
      note: `${IMAGE_MIB} MiB ext4 image`
    },
    {
      name: `block size ${label(row.blockSize)}: import throughput`,
      value: row.importMBps,
      unit: 'MB/s',
      baselineName: 'read + node:crypto SHA-256 of the file',
      baseline: row.baselineMBps,
      ratio: row.importMBps / row.baselineMBps
    }
  ])
}

function formatTable (rows: BlockSizeRow[]): string {
  const head = ['block', 'delta MiB', 'delta/changed', 'manifest KiB', 'import MB/s', 'v2 import MB/s', 'vs read+sha256']
  const body = rows.map((r) => [
    label(r.blockSize),
    (r.deltaBytes / MiB).toFixed(1),
    (r.deltaBytes / r.changedBytes).toFixed(2),
    (r.manifestBytes / KiB).toFixed(1),
    r.importMBps.toFixed(0),
    r.updateImportMBps.toFixed(0),
    (r.importMBps / r.baselineMBps).toFixed(2)
  ])
  const lines = [head, ...body].map((cells) => `| ${cells.join(' | ')} |`)
  lines.splice(1, 0, `|${head.map(() => '---').join('|')}|`)
  const first = rows[0]
  const note = first === undefined ? '' : `\n${IMAGE_MIB} MiB ext4 image; update wrote ${(first.changedBytes / MiB).toFixed(1)} MiB of files; read + SHA-256 baseline ${first.baselineMBps.toFixed(0)} MB/s`
  return lines.join('\n') + note
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const rows = await measure()
  process.stdout.write(formatTable(rows) + '\n')
}
