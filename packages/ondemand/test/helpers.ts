import '@cachecloud/core/polyfill'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { cidOf, type CID } from '@cachecloud/core'
import { IMAGE_MANIFEST_FORMAT, type ImageManifest } from '@cachecloud/manifest'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createCatalog, type Catalog } from '@cachecloud/image'
import { createTrustStore, encodeManifest, formatPublicKey, generatePublisherKey, signManifest } from '@cachecloud/manifest'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { createSwarm, type Swarm } from '@cachecloud/swarm'
import { createTransfer, type Transfer } from '@cachecloud/transfer'

export const publisher = generatePublisherKey()
export const BLOCK = 64 * 1024

/** One in-process CachePoint: block store, catalog, libp2p, transfer and swarm (no daemon, no control API). */
export interface Node {
  libp2p: CachePointLibp2p
  blockstore: Blockstore
  catalog: Catalog
  transfer: Transfer
  swarm: Swarm
  stop(): Promise<void>
}

export async function startNode (options: { wanMaxRate?: number } = {}): Promise<Node> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-ondemand-'))
  const blockstore = createBlockstore({ path: join(dir, 'blocks') })
  await blockstore.start()
  const catalog = createCatalog({ path: join(dir, 'catalog'), blockstore })
  await catalog.start()
  const libp2p = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const trust = createTrustStore([formatPublicKey(publisher.publicKey)])
  const swarm = createSwarm({
    libp2p,
    blockstore,
    catalog,
    trust,
    haveIntervalMs: 200,
    wan: options.wanMaxRate === undefined ? undefined : { maxRate: options.wanMaxRate }
  })
  const transfer = createTransfer({ libp2p, blockstore, catalog, trust, advertisePulling: true })
  await transfer.start()
  await swarm.start()
  let stopped = false
  return {
    libp2p, blockstore, catalog, transfer, swarm,
    async stop () {
      if (stopped) return
      stopped = true
      await swarm.stop()
      await transfer.stop()
      await libp2p.stop()
      await catalog.stop()
      await blockstore.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

/** Random blocks, every `holeEvery`-th one all zeros (a hole in the manifest). */
export function randomImage (count: number, holeEvery = 0): Uint8Array[] {
  return Array.from({ length: count }, (_, i) => holeEvery > 0 && i % holeEvery === holeEvery - 1 ? new Uint8Array(BLOCK) : randomBytes(BLOCK))
}

export function makeManifest (version: string, blocks: Uint8Array[]): ImageManifest {
  return signManifest({
    format: IMAGE_MANIFEST_FORMAT,
    name: 'disk',
    version,
    parent: null,
    size: blocks.length * BLOCK,
    blockSize: BLOCK,
    blocks: blocks.map(b => b.every(x => x === 0) ? null : cidOf(b)),
    createdAt: new Date().toISOString(),
    publisher: publisher.publicKey
  }, publisher)
}

export async function addVersion (node: Node, manifest: ImageManifest, blocks: Uint8Array[]): Promise<CID> {
  for (const b of blocks) if (!b.every(x => x === 0)) await node.blockstore.put(cidOf(b), b)
  await node.blockstore.sync()
  await node.catalog.add(manifest, 'complete')
  return encodeManifest(manifest).cid
}

export function concat (blocks: Uint8Array[]): Buffer { return Buffer.concat(blocks) }
