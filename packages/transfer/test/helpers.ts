import '@cachecloud/core/polyfill'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Multiaddr } from '@multiformats/multiaddr'
import { cidOf, type CID } from '@cachecloud/core'
import { IMAGE_MANIFEST_FORMAT, type ImageManifest } from '@cachecloud/manifest'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createCatalog, type Catalog } from '@cachecloud/image'
import { createTrustStore, encodeManifest, formatPublicKey, generatePublisherKey, signManifest, type PublisherKey } from '@cachecloud/manifest'
import { createNetwork, type CachePointLibp2p, type NetworkInit } from '@cachecloud/network'
import { createTransfer, type Transfer, type TransferInit } from '../src/index.js'
import { waitFor } from '@cachecloud/test-utils'

export const publisher = generatePublisherKey()

export interface TestNode {
  libp2p: CachePointLibp2p
  blockstore: Blockstore
  catalog: Catalog
  transfer: Transfer
  addr: Multiaddr
  dir: string
  stop(): Promise<void>
}

/** A CachePoint on 127.0.0.1 with a real block store and catalog in a temp dir. */
export async function startNode (options: Partial<TransferInit> & { trusted?: PublisherKey[], network?: Partial<NetworkInit> } = {}): Promise<TestNode> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-transfer-'))
  const blockstore = createBlockstore({ path: join(dir, 'blocks') })
  await blockstore.start()
  const catalog = createCatalog({ path: join(dir, 'catalog'), blockstore })
  await catalog.start()
  const libp2p = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], ...options.network })
  const trust = createTrustStore((options.trusted ?? [publisher]).map(k => formatPublicKey(k.publicKey)))
  const transfer = createTransfer({ libp2p, blockstore, catalog, trust, ...options })
  await transfer.start()
  return {
    libp2p,
    blockstore,
    catalog,
    transfer,
    addr: libp2p.getMultiaddrs()[0],
    dir,
    async stop () {
      await transfer.stop()
      await libp2p.stop()
      await catalog.stop()
      await blockstore.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export interface VersionSpec {
  name?: string
  version: string
  blockSize?: number
  /** Block contents; null is a hole. The last block may be shorter. */
  blocks: Array<Uint8Array | null>
  parent?: CID | null
  key?: PublisherKey
}

/** Random block contents: `count` blocks of `blockSize`, some holes and repeats, a short last block. */
export function randomBlocks (count: number, blockSize: number): Array<Uint8Array | null> {
  const blocks: Array<Uint8Array | null> = []
  for (let i = 0; i < count; i++) {
    if (i % 17 === 5) blocks.push(null)
    else if (i % 13 === 7 && i > 0 && blocks[i - 1] !== null) blocks.push(blocks[i - 1])
    else blocks.push(randomBytes(i === count - 1 ? Math.max(1, blockSize >> 1) : blockSize))
  }
  return blocks
}

export function makeManifest (spec: VersionSpec): ImageManifest {
  const blockSize = spec.blockSize ?? 64 * 1024
  const size = spec.blocks.reduce((n, b, i) => i === spec.blocks.length - 1 ? n + (b?.byteLength ?? blockSize) : n + blockSize, 0)
  return signManifest({
    format: IMAGE_MANIFEST_FORMAT,
    name: spec.name ?? 'disk',
    version: spec.version,
    parent: spec.parent ?? null,
    size,
    blockSize,
    blocks: spec.blocks.map(b => b === null ? null : cidOf(b)),
    createdAt: new Date().toISOString(),
    publisher: (spec.key ?? publisher).publicKey
  }, spec.key ?? publisher)
}

/** Stores a version's blocks and records it complete, as an import would. */
export async function addVersion (node: TestNode, spec: VersionSpec, manifest = makeManifest(spec)): Promise<{ manifest: ImageManifest, cid: CID }> {
  for (const bytes of spec.blocks) if (bytes !== null) await node.blockstore.put(cidOf(bytes), bytes)
  await node.blockstore.sync()
  await node.catalog.add(manifest, 'complete')
  return { manifest, cid: encodeManifest(manifest).cid }
}

/** Distinct non-hole blocks of a spec and their total bytes. */
export function distinctBytes (blocks: Array<Uint8Array | null>): { count: number, bytes: number } {
  const seen = new Map<string, number>()
  for (const b of blocks) if (b !== null) seen.set(cidOf(b).toString(), b.byteLength)
  return { count: seen.size, bytes: [...seen.values()].reduce((a, b) => a + b, 0) }
}

/** Every block `node` holds verifies against its CID (get verifies); returns how many. */
export async function verifyAll (node: TestNode): Promise<number> {
  let n = 0
  for await (const cid of node.blockstore.cids()) {
    const bytes = await node.blockstore.get(cid)
    const ok: boolean = cidOf(bytes, cid.code).equals(cid)
    if (!ok) throw new Error(`block ${cid.toString()} does not verify`)
    n++
  }
  return n
}

export async function countHeld (node: TestNode, blocks: Array<Uint8Array | null>): Promise<number> {
  const seen = new Set<string>()
  let n = 0
  for (const b of blocks) {
    if (b === null) continue
    const cid = cidOf(b)
    if (seen.has(cid.toString())) continue
    seen.add(cid.toString())
    if (await node.blockstore.has(cid)) n++
  }
  return n
}

export { waitFor }
