import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { cidOf } from '@cachecloud/core'
import { IMAGE_MANIFEST_FORMAT, type ImageManifest } from '@cachecloud/manifest'
import { generatePublisherKey, signManifest, type PublisherKey } from '@cachecloud/manifest'
import { createCatalog, type Catalog } from '../src/index.js'

export interface Node {
  dir: string
  blockstore: Blockstore
  catalog: Catalog
  key: PublisherKey
  /** Stops the catalog and block store (not the directory). */
  stop: () => Promise<void>
  /** Stops and deletes everything. */
  destroy: () => Promise<void>
}

/** A block store and catalog in a fresh temp directory (or `dir`, to test restarts). */
export async function makeNode (dir?: string, key: PublisherKey = generatePublisherKey()): Promise<Node> {
  const root = dir ?? await mkdtemp(join(tmpdir(), 'cc-image-test-'))
  const blockstore = createBlockstore({ path: join(root, 'blocks') })
  await blockstore.start()
  const catalog = createCatalog({ path: join(root, 'catalog'), blockstore })
  await catalog.start()
  const stop = async (): Promise<void> => {
    await catalog.stop()
    await blockstore.stop()
  }
  return { dir: root, blockstore, catalog, key, stop, destroy: async () => { await stop(); await rm(root, { recursive: true, force: true }) } }
}

/** A small signed manifest with `n` distinct blocks (block i holds byte i+1), for catalog and diff tests. */
export function smallManifest (
  key: PublisherKey,
  name: string,
  version: string,
  fill: Array<number | null>,
  createdAt = new Date(),
  blockSize = 4096
): ImageManifest {
  return signManifest({
    format: IMAGE_MANIFEST_FORMAT,
    name,
    version,
    parent: null,
    size: fill.length * blockSize,
    blockSize,
    blocks: fill.map((b) => b === null ? null : cidOf(new Uint8Array(blockSize).fill(b))),
    createdAt: createdAt.toISOString(),
    publisher: key.publicKey
  }, key)
}

export async function tempDir (): Promise<string> {
  return await mkdtemp(join(tmpdir(), 'cc-image-files-'))
}

export const MiB = 1024 * 1024
