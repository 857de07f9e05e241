import type { Libp2p, PeerId } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { peerSite } from '@cachecloud/network'
import type { Logger } from 'pino'
import { formatVersionRef, type CID, type ProgressEvent, type VersionRef } from '@cachecloud/core'
import { type ImageManifest } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import { missingBlocks, type Catalog } from '@cachecloud/image'
import { PeerMisbehavedError, runBlockSession, withTimeout, type BlockWant } from '@cachecloud/transfer'
import { Bitmap } from './bitmap.js'
import { DEFAULT_BLOCK_TIMEOUT_MS, DEFAULT_COMMIT_BYTES, DEFAULT_MAX_WINDOW_BYTES, DEFAULT_PUT_CONCURRENCY, FENCE_MARGIN_MS, FENCE_POLL_SLACK_MS } from './constants.js'
import { SwarmPullFailedError } from './errors.js'
import { requestHave } from './have.js'
import { blockKey, indexesByBlock, scanHeld, type LivePull } from './holdings.js'
import type { RateBudget } from './rate.js'
import { SwarmScheduler, type SwarmWant } from './scheduler.js'
import { PullStats } from './stats.js'

export interface SwarmPullContext {
  libp2p: Libp2p
  blockstore: Blockstore
  catalog: Catalog
  site: string
  wan: RateBudget
  haveIntervalMs: number
  timeoutMs: number
  log?: Logger
  /** Pulls in progress, answered on the have protocol. */
  live: Map<string, LivePull>
  /** Per pull in progress (by manifest CID), for reads on demand: a block stored outside it (not fetched twice), and holding it back while they fetch. */
  onDemand: Map<string, { stored: (block: CID) => void, hold: () => () => void }>
}

export interface SwarmPullOptions {
  signal?: AbortSignal
  onProgress?: (event: ProgressEvent<'swarm:block'>) => void
  /** Fail when no block arrives for this long (default: wait for peers forever, e.g. a laptop offline). */
  idleTimeoutMs?: number
}

/** The block phase of a swarm pull: sessions with every peer that holds blocks, have polling, batched commits. */
export async function swarmFetch (
  ctx: SwarmPullContext,
  ref: VersionRef,
  cid: CID,
  manifest: ImageManifest,
  stats: PullStats,
  options: SwarmPullOptions & { /** performance.now() when the pull was asked for (SwarmSchedulerInit.requestedAt). */ requestedAt?: number }
): Promise<void> {
  const indexes = indexesByBlock(manifest)
  const missing = await missingBlocks(manifest, async c => await ctx.blockstore.has(c), { signal: options.signal })
  const wants: SwarmWant[] = missing.blocks.map(b => ({ ...b, index: (indexes.get(blockKey(b.cid)) as number[])[0] }))
  const held = await scanHeld(manifest, ctx.blockstore)
  const claims = new Bitmap(held.size)
  stats.begin(wants.length, missing.bytes)
  const controller = new AbortController()
  const signal = options.signal === undefined ? controller.signal : AbortSignal.any([options.signal, controller.signal])
  const self = ctx.libp2p.peerId.toString()
  const lanPeers = new Set<string>()
  const scheduler = new SwarmScheduler({
    self,
    wants,
    wan: ctx.wan,
    claims,
    ...(options.requestedAt === undefined ? {} : { requestedAt: options.requestedAt }),
    onPenalty: (peer, why) => { ctx.log?.warn({ peer, why, ref: formatVersionRef(ref) }, 'deprioritized peer %s: %s', peer, why) }
  })
  ctx.onDemand.set(cid.toString(), {
    stored: (block) => {
      if (!scheduler.skip(block)) return
      for (const i of indexes.get(blockKey(block)) ?? []) held.set(i)
      stats.storedElsewhere(wants.find(w => w.cid.equals(block))?.length ?? 0)
    },
    hold: () => scheduler.hold()
  })
  const sessions = new Map<string, Promise<void>>()
  const polling = new Set<string>()
  let fatal: Error | undefined
  let sinceCommit = 0
  let commits: Promise<void> = Promise.resolve()
  let lastBlockAt = Date.now()

  const sessionInit = {
    libp2p: ctx.libp2p,
    blockstore: ctx.blockstore,
    scheduler,
    signal,
    maxInFlightBytes: DEFAULT_MAX_WINDOW_BYTES,
    batchBytes: 1024 * 1024,
    putConcurrency: DEFAULT_PUT_CONCURRENCY,
    timeoutMs: DEFAULT_BLOCK_TIMEOUT_MS,
    onConnect: () => {},
    onWire: (peer: string, bytes: number) => { stats.wire(peer, lanPeers.has(peer), bytes) },
    onStored: (peer: string, want: BlockWant) => {
      lastBlockAt = Date.now()
      for (const i of indexes.get(blockKey(want.cid)) ?? []) held.set(i)
      const lan = lanPeers.has(peer)
      stats.stored(peer, lan, want.length)
      // one line per block stored from another site: the harness counts WAN fetches per block and site from these
      if (!lan) ctx.log?.debug({ wanBlock: want.cid.toString(), peer, ref: formatVersionRef(ref) }, 'stored block from another site')
      sinceCommit += want.length
      if (sinceCommit >= DEFAULT_COMMIT_BYTES) {
        sinceCommit = 0
        commits = commits.then(async () => { await ctx.blockstore.sync() }).catch((err: Error) => { fatal ??= err; controller.abort(err) })
      }
      options.onProgress?.(stats.progress(peer))
    },
    onFatal: (err: Error) => { fatal ??= err; controller.abort(err) }
  }

  const startSession = (peer: PeerId): void => {
    const id = peer.toString()
    if (sessions.has(id) || scheduler.isPenalized(id)) return
    const run = runBlockSession(sessionInit, peer).catch((err: Error) => {
      if (signal.aborted) return
      ctx.log?.warn({ peer: id, err, ref: formatVersionRef(ref) }, 'block exchange with %s failed: %s', id, err.message)
      if (err instanceof PeerMisbehavedError) scheduler.penalize(id, err.message)
      // a same-site peer's claims stay known until have requests to it fail for good
      else if (lanPeers.has(id)) scheduler.haveFailed(id, performance.now())
      else scheduler.removePeer(id)
    }).finally(() => { sessions.delete(id) })
    sessions.set(id, run)
  }

  // each peer is asked on its own schedule: one slow or unreachable peer does not age the view of the others
  const poll = async (peer: PeerId): Promise<void> => {
    const id = peer.toString()
    polling.add(id)
    const sentAt = performance.now()
    scheduler.haveSent(id, sentAt)
    try {
      const answer = await requestHave(ctx.libp2p, peer, cid, withTimeout(ctx.timeoutMs, signal))
      const lan = ctx.site !== '' && answer.site === ctx.site
      if (lan) lanPeers.add(id); else lanPeers.delete(id)
      stats.peerSite(id, answer.site, lan)
      scheduler.updatePeer(id, lan, answer, sentAt)
      if (answer.state !== 'none' && scheduler.remaining > 0) startSession(peer)
    } catch (err) {
      if (signal.aborted) return
      ctx.log?.debug({ peer: id, err }, 'have of %s failed: %s', id, (err as Error).message)
      // a same-site peer unreachable for a moment (this node's own link cut) keeps its place: forgetting what it
      // holds would send its blocks over the WAN; the scheduler forgets it once other peers answer and it does not
      scheduler.haveFailed(id, sentAt)
    } finally {
      polling.delete(id)
      if (repoll.delete(id) && !signal.aborted) void poll(peer)
    }
  }

  /**
   * A same-site peer asked this node's holdings for the first time in this pull: from now on it knows this node
   * is pulling, and its answer to a request sent FENCE_MARGIN_MS later fences it (SiteGroup). That request goes
   * out then, not at the next polling round (up to haveIntervalMs later): each member's fence took one or two
   * rounds, which with the start delay kept a branch's WAN link idle for the first 3-4 s of a version.
   */
  const askedBefore = new Set<string>()
  const repoll = new Set<string>()
  const onAsked = (id: string): void => {
    scheduler.polledBy(id)
    if (askedBefore.has(id) || !(lanPeers.has(id) || sitePeers.has(id))) return
    askedBefore.add(id)
    setTimeout(() => {
      if (signal.aborted) return
      if (polling.has(id)) repoll.add(id) // the request in flight went out too early to fence: another after it
      else void poll(peerIdFromString(id))
    }, FENCE_MARGIN_MS + FENCE_POLL_SLACK_MS).unref()
  }
  const sitePeers = new Set<string>()
  const pollAll = (): void => {
    const targets = new Map<string, PeerId>()
    for (const peer of ctx.libp2p.getPeers()) {
      const id = peer.toString()
      targets.set(id, peer)
      // identify says which connected peers are in this site before they answer: their holdings are not known yet
      if (ctx.site !== '' && !sitePeers.has(id)) {
        void peerSite(ctx.libp2p, peer).then(site => { if (site === ctx.site && !sitePeers.has(id)) { sitePeers.add(id); scheduler.expectSitePeer(id) } })
      }
    }
    // peers no longer connected are asked too (the dial fails): a vanished peer is forgotten that way
    for (const id of scheduler.knownPeers()) if (!targets.has(id)) targets.set(id, peerIdFromString(id))
    for (const [id, peer] of targets) if (!polling.has(id)) void poll(peer)
  }

  ctx.live.set(cid.toString(), { held, claims, onAsked })
  let lastBlocker: string | undefined
  const done = (async () => { while (scheduler.remaining > 0 && !signal.aborted) await scheduler.changed() })()
  try {
    while (scheduler.remaining > 0) {
      if (fatal !== undefined) throw fatal
      signal.throwIfAborted()
      pollAll()
      const blocker = scheduler.wanBlocker()
      if (blocker !== lastBlocker) ctx.log?.debug({ ref: formatVersionRef(ref), wanBlocker: blocker ?? null }, 'WAN requests %s', blocker === undefined ? 'may start' : `wait: ${blocker}`)
      lastBlocker = blocker
      if (options.idleTimeoutMs !== undefined && Date.now() - lastBlockAt > options.idleTimeoutMs) {
        throw new SwarmPullFailedError(`${scheduler.remaining} of ${wants.length} blocks of ${formatVersionRef(ref)} not received for ${options.idleTimeoutMs} ms (${ctx.libp2p.getPeers().length} peers connected)`)
      }
      await Promise.race([
        new Promise(resolve => setTimeout(resolve, ctx.haveIntervalMs)),
        done
      ])
    }
  } finally {
    // done: idle sessions close their streams on their own; only laggards (endgame copies in flight) are reset
    scheduler.close()
    if (scheduler.remaining === 0 && fatal === undefined) {
      await Promise.race([
        Promise.allSettled(sessions.values()),
        new Promise(resolve => setTimeout(resolve, 2000))
      ])
    }
    controller.abort(fatal ?? new Error('pull finished'))
    await Promise.allSettled([...sessions.values(), done])
    commits = commits.then(async () => { await ctx.blockstore.sync() })
    await commits.catch((err: Error) => { fatal ??= err })
    ctx.live.delete(cid.toString())
    ctx.onDemand.delete(cid.toString())
  }
  if (fatal !== undefined) throw fatal
}
