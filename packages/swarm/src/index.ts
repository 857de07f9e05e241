/**
 * @packageDocumentation
 *
 * Swarm distribution of image versions between CachePoints: peers say what
 * they hold of a version (the have protocol: complete, or a bitmap of block
 * indexes while still pulling, and their site label); a pull fetches from
 * every peer at once, rarest block first, with per-peer pipelines sized to
 * each peer's measured rate, same-site peers first and each block crossing
 * the site's WAN about once, endgame requests, lying peers deprioritized,
 * and a WAN rate budget. Versions are announced per image over pubsub;
 * subscribers verify and pull on their own, and catch up on reconnect.
 * Formats: docs/formats/protocols.md.
 *
 * @example
 * ```ts
 * const swarm = createSwarm({ libp2p, blockstore, catalog, trust, site: 'branch-paris', wan: { maxRate: '20mbit' } })
 * const transfer = createTransfer({ libp2p, blockstore, catalog, trust, advertisePulling: true, sendBudget: swarm.sendBudget })
 * await transfer.start(); await swarm.start()
 * swarm.subscribe('win11')                          // pulls every announced version
 * const plan = await swarm.plan({ name: 'win11', version: 'v2' })   // LAN vs WAN before anything moves
 * await swarm.publish({ name: 'win11', version: 'v3' })              // on the publisher
 * ```
 */
import type { Libp2p } from '@libp2p/interface'
import type { CachePointPubSub } from '@cachecloud/network'
import type { Logger } from 'pino'
import type { CID, RetryPolicy, VersionRef } from '@cachecloud/core'
import type { ImageManifest } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import type { Catalog } from '@cachecloud/image'
import type { PublisherKey, TrustStore } from '@cachecloud/manifest'
import type { PullPlan } from './plan.js'
import type { SwarmPullOptions } from './pull.js'
import type { WanRateConfig } from './rate.js'
import type { SwarmPullStatus } from './stats.js'
import type { RolloutView } from './rollout.js'
import { CacheCloudSwarm } from './swarm.js'

export interface Subscription { name: string, policy: 'auto' | 'manual' }

export type SwarmEvent =
  | { type: 'announced', ref: string, cid: string }
  | { type: 'pulled', ref: string, cid: string }

export interface SwarmInit {
  /** The host; needs the pubsub service (`createNetwork` adds gossipsub). */
  libp2p: Libp2p<{ pubsub: CachePointPubSub }>
  blockstore: Blockstore
  catalog: Catalog
  trust: TrustStore
  /** This node's publisher key (the one that signs its manifests): it signs the announcements `publish` sends. Without it, `publish` fails. */
  publisherKey?: PublisherKey
  logger?: Logger
  /** This node's site label; peers with the same label are LAN. Default: '' (every peer is WAN). */
  site?: string
  /** Budget for bytes exchanged with peers of other sites. Default: unlimited. */
  wan?: WanRateConfig
  /** Images whose announced versions this node pulls (auto) or only records (manual). */
  subscriptions?: Array<{ name: string, policy?: 'auto' | 'manual' }>
  /** How often a pull asks peers what they hold. Default: DEFAULT_HAVE_INTERVAL_MS. */
  haveIntervalMs?: number
  /** Have, catalog and manifest request timeout. Default: DEFAULT_HAVE_TIMEOUT_MS. */
  timeoutMs?: number
  /** How often subscribed images are checked for versions peers hold and this node lacks. Default: DEFAULT_CATCH_UP_INTERVAL_MS. */
  catchUpIntervalMs?: number
  /** How often this node sends its rollout reports. Default: DEFAULT_ROLLOUT_INTERVAL_MS. */
  rolloutIntervalMs?: number
  /** How a background pull (an announcement, a catch-up, a subscription) that failed is tried again. Default: core's DEFAULT_PULL_RETRY. A version offered only under an untrusted publisher is never tried again. */
  retry?: RetryPolicy
  onEvent?: (event: SwarmEvent) => void
}

export interface SwarmPullResult extends SwarmPullStatus { manifest: ImageManifest, durationMs: number }

/** Bytes this node exchanged in swarm pulls and served, LAN vs WAN, and received per peer. */
export interface SwarmCounters {
  sentLanBytes: number
  sentWanBytes: number
  receivedLanBytes: number
  receivedWanBytes: number
  byPeer: Record<string, number>
}

export interface Swarm {
  /** Serves the have protocol, subscribes to announcements, resumes half-pulled subscribed versions, catches up. */
  start(): Promise<void>
  stop(): Promise<void>
  /** Pulls a version from every peer that holds its blocks (one pull per version at a time). */
  pull(ref: VersionRef, options?: SwarmPullOptions): Promise<SwarmPullResult>
  /**
   * The trusted manifest of a version, from the catalog or from a peer; a version new here is
   * recorded as `pulling` (nothing else is fetched). For readers that fetch blocks on demand.
   */
  resolve(ref: VersionRef, options?: { signal?: AbortSignal }): Promise<{ cid: CID, manifest: ImageManifest }>
  /** A block of the version with manifest CID `manifest` was stored outside the pull (fetched on demand): the running pull skips it. */
  blockStored(manifest: CID, block: CID): void
  /**
   * Reads on demand of that version are fetching: its running pull requests no new blocks (they
   * get the bandwidth) until the returned function is called. Blocks already requested still arrive.
   */
  holdBack(manifest: CID): () => void
  /** What a pull would fetch, and how much of it this site already holds (LAN) vs must cross the WAN. */
  plan(ref: VersionRef, options?: { signal?: AbortSignal }): Promise<PullPlan>
  /** Announces a version held complete here on the image's topic. */
  publish(ref: VersionRef): Promise<{ topic: string, recipients: number }>
  subscribe(name: string, policy?: Subscription['policy']): void
  unsubscribe(name: string): void
  subscriptions(): Subscription[]
  /**
   * Where a version has got to among the nodes that report to this one (per site: complete,
   * pulling with percent, not started, offline with when last seen). Reports of the image are
   * collected from this call on, and always for images this node published.
   */
  rollout(ref: VersionRef): Promise<RolloutView>
  /** The rollout of the newest version of every image this node collects reports of. */
  rollouts(): Promise<RolloutView[]>
  /** Asks connected peers (or `peers`) for newer versions of subscribed images and pulls them. */
  catchUp(): Promise<void>
  /**
   * Stops every swarm pull (each ends `paused`, what it stored stays) and starts none, neither on
   * announcements nor on catch-up, until resume. Resolves once the pulls have stopped; returns their refs.
   */
  pause(): Promise<string[]>
  /** Ends a pause: half-pulled versions of subscribed images continue, and peers are asked for newer ones. Returns the refs it restarted. */
  resume(): Promise<string[]>
  /** Sync now: half-pulled subscribed versions continue and peers are asked for newer ones (in the background). Returns the refs it restarted. */
  syncNow(): Promise<string[]>
  readonly paused: boolean
  /** Swarm pulls of this run: blocks, bytes by peer, LAN vs WAN, rate, ETA. */
  status(): SwarmPullStatus[]
  totals(): SwarmCounters
  /** For createTransfer's `sendBudget`: serving peers of other sites spends the WAN budget. */
  readonly sendBudget: (peer: string, bytes: number) => Promise<void>
  /** For createTransfer's `receiveBudget`: a direct pull (or an on-demand read) from a peer of another site spends the WAN budget too. */
  readonly receiveBudget: (peer: string, bytes: number) => Promise<void>
}

export function createSwarm (init: SwarmInit): Swarm {
  return new CacheCloudSwarm(init)
}

export * from './constants.js'
export * from './errors.js'
export { parseRate, RateBudget, type WanRateConfig } from './rate.js'
export { SwarmScheduler, type SwarmWant, type SwarmSchedulerInit } from './scheduler.js'
export type { PullPlan } from './plan.js'
export type { SwarmPullOptions } from './pull.js'
export type { SwarmPullStatus, PeerBytes } from './stats.js'
export type { RolloutView, RolloutNode, RolloutCounts } from './rollout.js'
export { rolloutTopic, decodeRolloutReport, encodeRolloutReport, type RolloutReport } from './rollout-wire.js'
export type { HaveAnswer } from './have-wire.js'
export { requestHave } from './have.js'
export { encodeHaveResponse, decodeHaveResponse } from './have-wire.js'
export { announceTopic, decodeAnnouncement, type Announcement, type WireAnnouncement } from './announce.js'
export { encodeSignedAnnouncement, verifyAnnouncement, type SignedAnnouncement, type VerifyAnnouncementOptions } from './announce-signing.js'
