/**
 * @packageDocumentation
 *
 * Block exchange between CachePoints over libp2p. Three versioned protocols
 * (docs/formats/protocols.md): the catalog of versions a peer holds, manifest
 * by CID, and pipelined block batches with length-prefixed, bounded frames.
 * A pull fetches only the blocks this node lacks, verifies each against its
 * CID before storing it, commits in batches, and resumes after interruption.
 *
 * @example
 * ```ts
 * const transfer = createTransfer({ libp2p, blockstore, catalog, trust, logger })
 * await transfer.start()
 * const result = await transfer.pull({ ref: { name: 'win11', version: 'v2' }, peers: [addr], onProgress })
 * ```
 */
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { CID } from '@cachecloud/core'
import type { ImageManifest } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import type { Catalog } from '@cachecloud/image'
import type { TrustStore } from '@cachecloud/manifest'
import type { PeerTarget } from './client.js'
import type { PullInit, PullResult } from './pull.js'
import type { BlockWant, PullScheduler } from './scheduler.js'
import type { RemoteVersion } from './wire.js'
import { CacheCloudTransfer } from './transfer.js'

export interface TransferInit {
  libp2p: Libp2p
  blockstore: Blockstore
  catalog: Catalog
  /** Publishers whose manifests a pull accepts. */
  trust: TrustStore
  /** Misbehaving peers, failed streams and finished pulls are logged here; nothing is printed without it. */
  logger?: Logger
  /** Whether the catalog protocol lists versions still being pulled. Default: DEFAULT_ADVERTISE_PULLING. */
  advertisePulling?: boolean
  /** Bytes of blocks requested and unanswered per peer. Default: DEFAULT_MAX_IN_FLIGHT_BYTES. */
  maxInFlightBytes?: number
  /** Target bytes per WANT request. Default: DEFAULT_BATCH_BYTES. */
  batchBytes?: number
  /** New bytes between two commits (blockstore.sync) of a pull. Default: DEFAULT_COMMIT_BYTES. */
  commitBytes?: number
  /** Blocks stored concurrently by a pull. Default: DEFAULT_PUT_CONCURRENCY. */
  putConcurrency?: number
  /** Blocks a server reads ahead per stream. Default: DEFAULT_SERVER_READ_AHEAD. */
  serverReadAhead?: number
  /** Inbound streams per protocol per connection. Default: DEFAULT_MAX_INBOUND_STREAMS. */
  maxInboundStreams?: number
  /** Request timeout and block-stream silence limit. Default: DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number
  /** Which peer fetches which block. Default: createWorkQueueScheduler. */
  createScheduler?: (wants: BlockWant[]) => PullScheduler
  /** Waits until `bytes` of blocks may be sent to `peer` (e.g. a WAN rate budget for peers of other sites). Default: no limit. */
  sendBudget?: (peer: string, bytes: number) => Promise<void>
  /** Waits until `bytes` more may be read from `peer` by a pull (the WAN budget for peers of other sites). Default: no limit. */
  receiveBudget?: (peer: string, bytes: number) => Promise<void>
  /** Block protocol versions spoken, preferred first. Default: DEFAULT_BLOCK_PROTOCOLS (a test sets [BLOCKS_PROTOCOL_V1] to act as a node of the previous version). */
  blockProtocols?: readonly string[]
}

export interface Transfer {
  /** Registers the catalog, manifest and blocks protocol handlers. */
  start(): Promise<void>
  /** Unregisters them (streams in progress finish or fail). */
  stop(): Promise<void>
  /** The versions a peer holds (complete ones; pulling ones too if it advertises them). */
  listVersions(peer: PeerTarget, options?: { name?: string, signal?: AbortSignal }): Promise<RemoteVersion[]>
  /** A manifest by CID, checked to hash to it and decoded; its signature is not checked. */
  fetchManifest(peer: PeerTarget, cid: CID, options?: { signal?: AbortSignal }): Promise<ImageManifest>
  /** Fetches a version from the peers: verified manifest, then only the blocks missing here; resumable. */
  pull(init: PullInit): Promise<PullResult>
}

export function createTransfer (init: TransferInit): Transfer {
  return new CacheCloudTransfer(init)
}

export * from './constants.js'
export * from './errors.js'
export * from './wire.js'
export * from './scheduler.js'
export { rankOffers, resolveOfferedManifest, type ManifestOffer, type ResolveContext, type ResolvedManifest } from './resolve.js'
export type { PeerTarget } from './client.js'
// building blocks for other pull strategies (the swarm pull in @cachecloud/swarm)
export { requestCatalog, requestManifest, withTimeout } from './client.js'
export { runBlockSession, type BlockSessionInit } from './block-session.js'
export type { PullInit, PullResult } from './pull.js'
