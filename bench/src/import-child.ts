/**
 * Imports one file into a fresh store in its own process and prints
 * `{ maxRssBytes, durationMs, size }`: peak memory of an import, free of
 * whatever the bench runner itself holds.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBlockstore } from '@cachecloud/blockstore'
import { createCatalog, importImage } from '@cachecloud/image'
import { generatePublisherKey } from '@cachecloud/manifest'

const file = process.argv[2]
const dir = await mkdtemp(join(tmpdir(), 'cc-bench-mem-'))
try {
  const blockstore = createBlockstore({ path: join(dir, 'store') })
  await blockstore.start()
  const catalog = createCatalog({ path: join(dir, 'catalog'), blockstore })
  await catalog.start()
  const { stats } = await importImage({ file, name: 'mem', version: 'v1', blockstore, catalog, key: generatePublisherKey() })
  await catalog.stop()
  await blockstore.stop()
  process.stdout.write(JSON.stringify({ maxRssBytes: process.resourceUsage().maxRSS * 1024, durationMs: stats.durationMs, size: stats.size }) + '\n')
} finally {
  await rm(dir, { recursive: true, force: true })
}
