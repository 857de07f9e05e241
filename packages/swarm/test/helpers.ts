import '@cachecloud/core/polyfill'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { pino, type Logger } from 'pino'
import { cidOf, type CID } from '@cachecloud/core'
import { IMAGE_MANIFEST_FORMAT, type ImageManifest } from '@cachecloud/manifest'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createCatalog, type Catalog } from '@cachecloud/image'
import { createTrustStore, encodeManifest, formatPublicKey, generatePublisherKey, signManifest } from '@cachecloud/manifest'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { createTransfer, type Transfer } from '@cachecloud/transfer'
import { createSwarm, type Swarm, type SwarmInit } from '../src/index.js'
import { waitFor } from '@cachecloud/test-utils'

export const publisher = generatePublisherKey()
export const BLOCK = 64 * 1024

export interface SwarmNode {
  libp2p: CachePointLibp2p
  blockstore: Blockstore
  catalog: Catalog
  transfer: Transfer
  swarm: Swarm
  lines: string[]
  stop(): Promise<void>
}

export async function startSwarmNode (init: Partial<Omit<SwarmInit, 'libp2p' | 'blockstore' | 'catalog' | 'trust'>> & { networkKey?: Uint8Array } = {}): Promise<SwarmNode> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-swarm-'))
  const blockstore = createBlockstore({ path: join(dir, 'blocks') })
  await blockstore.start()
  const catalog = createCatalog({ path: join(dir, 'catalog'), blockstore })
  await catalog.start()
  const libp2p = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], site: init.site, networkKey: init.networkKey })
  const lines: string[] = []
  const logger: Logger = pino({ level: 'info' }, { write: (line: string) => { lines.push(line) } })
  const trust = createTrustStore([formatPublicKey(publisher.publicKey)])
  const swarm = createSwarm({ libp2p, blockstore, catalog, trust, publisherKey: publisher, logger, haveIntervalMs: 200, ...init })
  const transfer = createTransfer({ libp2p, blockstore, catalog, trust, logger, advertisePulling: true, sendBudget: swarm.sendBudget })
  await transfer.start()
  await swarm.start()
  return {
    libp2p, blockstore, catalog, transfer, swarm, lines,
    async stop () {
      await swarm.stop()
      await transfer.stop()
      await libp2p.stop()
      await catalog.stop()
      await blockstore.stop()
      await rm(dir, { recursive: true, force: true })
    }
  }
}

export function randomImage (count: number): Uint8Array[] {
  return Array.from({ length: count }, () => randomBytes(BLOCK))
}

export function makeManifest (version: string, blocks: Uint8Array[], name = 'disk', key = publisher): ImageManifest {
  return signManifest({
    format: IMAGE_MANIFEST_FORMAT,
    name,
    version,
    parent: null,
    size: blocks.length * BLOCK,
    blockSize: BLOCK,
    blocks: blocks.map(b => cidOf(b)),
    createdAt: new Date().toISOString(),
    publisher: key.publicKey
  }, key)
}

/** Stores the version's blocks and records it complete, as an import would. */
export async function addVersion (node: SwarmNode, manifest: ImageManifest, blocks: Uint8Array[]): Promise<CID> {
  for (const b of blocks) await node.blockstore.put(cidOf(b), b)
  await node.blockstore.sync()
  await node.catalog.add(manifest, 'complete')
  return encodeManifest(manifest).cid
}

/**
 * Connects every pair and waits until each connection holds: a fresh
 * connection between in-process nodes is sometimes closed right after the
 * dial (seen about once in five runs of a file, in both directions of a pair
 * dialled at once), and a test that plans right then sees no peer.
 */
export async function connectAll (nodes: SwarmNode[]): Promise<void> {
  for (let i = 0; i < nodes.length; i++) {
    for (let j = i + 1; j < nodes.length; j++) {
      const [a, b] = [nodes[i], nodes[j]]
      await a.libp2p.dial(b.libp2p.getMultiaddrs()[0])
      await waitFor(async () => {
        if (a.libp2p.getPeers().some(p => p.equals(b.libp2p.peerId)) && b.libp2p.getPeers().some(p => p.equals(a.libp2p.peerId))) return true
        await a.libp2p.dial(b.libp2p.getMultiaddrs()[0]).catch(() => {})
        return false
      })
    }
  }
}

export async function holdsAll (node: SwarmNode, blocks: Uint8Array[]): Promise<boolean> {
  for (const b of blocks) {
    const bytes = await node.blockstore.get(cidOf(b)).catch(() => undefined)
    if (bytes === undefined || Buffer.compare(Buffer.from(bytes), Buffer.from(b)) !== 0) return false
  }
  return true
}

export { waitFor }
