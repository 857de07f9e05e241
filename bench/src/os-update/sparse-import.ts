import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createBlockstore } from '@cachecloud/blockstore'
import { createCatalog, importImage } from '@cachecloud/image'
import { generatePublisherKey } from '@cachecloud/manifest'
import { allocatedBytes, makeSparseImage } from '@cachecloud/fixtures'

const MiB = 1024 * 1024

/** Issue 11: importing a sparse image should take time in proportion to its allocated bytes, not its length. */
export interface SparseImportFigures {
  sparseSize: number
  sparseAllocated: number
  sparseMs: number
  denseSize: number
  denseMs: number
  /** Reading the whole sparse file in 1 MiB preads, holes included, and nothing else: what an importer without SEEK_DATA pays. */
  readAllMs: number
}

async function readAllMs (file: string): Promise<number> {
  const started = performance.now()
  const handle = await open(file, 'r')
  try {
    const buffer = Buffer.allocUnsafe(MiB)
    for (let position = 0; ; position += MiB) {
      const { bytesRead } = await handle.read(buffer, 0, MiB, position)
      if (bytesRead === 0) break
    }
  } finally {
    await handle.close()
  }
  return performance.now() - started
}

async function importMs (dir: string, file: string): Promise<number> {
  const store = join(dir, 'sparse-import-store')
  const blockstore = createBlockstore({ path: store })
  await blockstore.start()
  const catalog = createCatalog({ path: join(store, 'catalog'), blockstore })
  await catalog.start()
  try {
    const { stats } = await importImage({ file, name: 'sparse', version: 'v1', blockstore, catalog, key: generatePublisherKey() })
    return stats.durationMs
  } finally {
    await catalog.stop()
    await blockstore.stop()
    await rm(store, { recursive: true, force: true })
  }
}

/**
 * The same data twice: spread over a sparse image of `sparseGiB` as `regions`
 * equal regions between holes, and back to back in a dense file of the data's
 * length. Each is imported into a fresh store (nothing dedupes).
 */
export async function measureSparseImport (dir: string, sparseGiB = 4, dataMiB = 512, regions = 64): Promise<SparseImportFigures> {
  const sparseSize = sparseGiB * 1024 * MiB
  const length = (dataMiB / regions) * MiB
  const stride = Math.floor(sparseSize / regions / MiB) * MiB
  const sparse = join(dir, 'sparse.raw')
  const dense = join(dir, 'dense.raw')
  await makeSparseImage(sparse, sparseSize, Array.from({ length: regions }, (_, i) => ({ offset: i * stride, length })), 'bench-sparse')
  await makeSparseImage(dense, dataMiB * MiB, Array.from({ length: regions }, (_, i) => ({ offset: i * length, length })), 'bench-sparse')
  try {
    await importMs(dir, dense) // warm the page cache and the code paths
    // The best of two each: other jobs share the cores.
    const denseMs = Math.min(await importMs(dir, dense), await importMs(dir, dense))
    const sparseMs = Math.min(await importMs(dir, sparse), await importMs(dir, sparse))
    return { sparseSize, sparseAllocated: await allocatedBytes(sparse), sparseMs, denseSize: dataMiB * MiB, denseMs, readAllMs: await readAllMs(sparse) }
  } finally {
    await rm(sparse, { force: true })
    await rm(dense, { force: true })
  }
}
