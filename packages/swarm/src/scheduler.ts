import type { BlockWant, PullScheduler } from '@cachecloud/transfer'
import type { Bitmap } from './bitmap.js'
import {
  DEFAULT_ENDGAME_AFTER_MS, DEFAULT_INITIAL_WINDOW_BYTES, DEFAULT_LAN_WAIT_MS, DEFAULT_MAX_WINDOW_BYTES, DEFAULT_PENALTY_MS,
  DEFAULT_PIPELINE_SECONDS, DEFAULT_STALL_MS, DEFAULT_WAN_START_DELAY_MS, DEADLOCK_MS, LIES_BEFORE_PENALTY, WAN_INITIAL_WINDOW_BYTES
} from './constants.js'
import type { HaveAnswer } from './have-wire.js'
import type { RateBudget } from './rate.js'
import { blockHashOf, Rendezvous } from './rendezvous.js'
import { SiteGroup } from './site-group.js'

/** A block to fetch and the first manifest index holding it (where peers' bitmaps say whether they hold it). */
export interface SwarmWant extends BlockWant { index: number }

export interface SwarmSchedulerInit {
  /** This node's peer id (its place in the site's share of WAN fetching). */
  self: string
  wants: SwarmWant[]
  /** Budget for bytes from peers of other sites. */
  wan: RateBudget
  pipelineSeconds?: number
  initialWindowBytes?: number
  maxWindowBytes?: number
  endgameAfterMs?: number
  stallMs?: number
  penaltyMs?: number
  /** Before taking blocks from other sites, wait this long (from `requestedAt`) for same-site peers to show up. Default: DEFAULT_WAN_START_DELAY_MS. */
  wanStartDelayMs?: number
  /**
   * When the pull was asked for (on the scheduler's clock): an announcement reaches a site's nodes at
   * once, so the start delay runs from then, while the manifest is resolved, not after. Default: now.
   */
  requestedAt?: number
  /** With no same-site peer known, wait this long before the first WAN request. Default: DEFAULT_LAN_WAIT_MS. */
  lanWaitMs?: number
  /** This node's claims (manifest indexes requested from other sites and not yet received), answered on the have protocol. */
  claims?: Bitmap
  /** A peer was deprioritized (lied or failed). */
  onPenalty?: (peer: string, why: string) => void
  /** Monotonic milliseconds; default performance.now (tests move a clock by hand instead of sleeping). */
  now?: () => number
}

interface WantState {
  want: SwarmWant
  done: boolean
  /** Peers it is requested from, and since when. */
  at: Map<string, number>
  refusedBy?: Set<string>
  /** Peers known to hold it. */
  holders: number
  /** Tie-break, different on every node, so nodes start on different blocks. */
  rank: number
  /** Its place in the rendezvous hashing (blockHashOf): which member of the site's pulling group fetches it over the WAN. */
  hash: number
}

interface PeerState {
  lan: boolean
  state: HaveAnswer['state']
  holds: Uint8Array
  /** Blocks it requested from other sites (same-site peers only). */
  claims: Uint8Array
  inFlight: number
  rate: number
  windowStart: number
  windowBytes: number
  penaltyUntil: number
  penalties: number
  lies: number
}

/**
 * Rarest-first across the swarm, per-peer pipelines sized to each peer's
 * measured rate, same-site peers first, each block fetched over the WAN by
 * one member of the site's pulling group (by block hash), endgame requests
 * to a second peer, and lying peers deprioritized.
 */
export class SwarmScheduler implements PullScheduler {
  private readonly wants: WantState[]
  private readonly indexOf = new Map<BlockWant, number>()
  private readonly peers = new Map<string, PeerState>()
  private readonly site: SiteGroup
  private waiters: Array<() => void> = []
  private timer: ReturnType<typeof setTimeout> | undefined
  remaining: number
  private readonly now: () => number
  private lastProgress: number
  private readonly createdAt: number
  private readonly requestedAt: number
  private readonly o: Required<Omit<SwarmSchedulerInit, 'onPenalty' | 'claims' | 'now' | 'requestedAt'>> & Pick<SwarmSchedulerInit, 'onPenalty' | 'claims'>

  constructor (init: SwarmSchedulerInit) {
    this.now = init.now ?? (() => performance.now())
    this.lastProgress = this.createdAt = this.now()
    this.requestedAt = Math.min(init.requestedAt ?? this.createdAt, this.createdAt)
    this.o = {
      pipelineSeconds: DEFAULT_PIPELINE_SECONDS, initialWindowBytes: DEFAULT_INITIAL_WINDOW_BYTES, maxWindowBytes: DEFAULT_MAX_WINDOW_BYTES,
      endgameAfterMs: DEFAULT_ENDGAME_AFTER_MS, stallMs: DEFAULT_STALL_MS, penaltyMs: DEFAULT_PENALTY_MS, wanStartDelayMs: DEFAULT_WAN_START_DELAY_MS,
      lanWaitMs: DEFAULT_LAN_WAIT_MS, ...init
    }
    this.site = new SiteGroup(init.self, this.o.stallMs)
    this.wants = init.wants.map(want => ({ want, done: false, at: new Map(), holders: 0, rank: Math.random(), hash: blockHashOf(want.cid) }))
    this.wants.forEach((w, i) => this.indexOf.set(w.want, i))
    this.remaining = this.wants.length
  }

  /**
   * Records what `peer` holds and claims (its have answer to a request sent at `sentAt`,
   * the scheduler's clock) and whether it is in this node's site.
   */
  updatePeer (peer: string, lan: boolean, answer: HaveAnswer, sentAt = this.now()): void {
    let p = this.peers.get(peer)
    if (p === undefined) {
      p = { lan, state: 'none', holds: new Uint8Array(this.wants.length), claims: new Uint8Array(this.wants.length), inFlight: 0, rate: 0, windowStart: this.now(), windowBytes: 0, penaltyUntil: 0, penalties: 0, lies: 0 }
      this.peers.set(peer, p)
    }
    p.lan = lan
    p.state = answer.state
    const count = answer.state === 'partial' ? answer.count : 0
    const bit = (bytes: Uint8Array, i: number): boolean => i < count && (bytes[i >> 3] & (1 << (i & 7))) !== 0
    for (let i = 0; i < this.wants.length; i++) {
      const w = this.wants[i]
      p.claims[i] = lan && answer.state === 'partial' && bit(answer.claimed, w.want.index) ? 1 : 0
      const holds = answer.state === 'complete' || (answer.state === 'partial' && bit(answer.bitmap, w.want.index))
      const had = p.holds[i] === 1
      if (holds === had || w.refusedBy?.has(peer) === true) continue
      p.holds[i] = holds ? 1 : 0
      w.holders += holds ? 1 : -1
    }
    this.site.settled(peer)
    this.site.heard(this.now())
    if (lan) {
      let held = 0
      for (let i = 0; i < this.wants.length; i++) held += p.holds[i]
      this.site.answered(peer, sentAt, answer.state === 'partial', held, this.now())
    } else this.site.reached(sentAt, peer)
    this.notify()
  }

  /** A have request to `peer` went out at `sentAt` (this scheduler's clock): unanswered with nothing else heard, it says this node's link may be down. */
  haveSent (peer: string, sentAt = this.now()): void {
    this.site.sent(peer, sentAt)
  }

  /** `peer` asked this node's holdings of the version (it is pulling too, and now counts this node). */
  polledBy (peer: string, at = this.now()): void {
    this.site.polledBy(peer, at)
    this.notify()
  }

  /** A have request to `peer`, sent at `sentAt`, failed; a same-site peer failing for good is forgotten. */
  haveFailed (peer: string, sentAt: number): void {
    this.site.settled(peer)
    const p = this.peers.get(peer)
    if (p?.lan !== true) { this.removePeer(peer); return }
    this.site.failed(peer, sentAt)
    if (this.site.isGone(peer)) this.removePeer(peer)
    this.notify()
  }

  /** `peer` is gone: it holds nothing we can reach (a same-site member keeps its share while it asked recently). */
  removePeer (peer: string): void {
    const p = this.peers.get(peer)
    if (p === undefined) return
    for (let i = 0; i < this.wants.length; i++) if (p.holds[i] === 1) this.wants[i].holders--
    this.peers.delete(peer)
    this.notify()
  }

  /**
   * The block is stored already (an on-demand read fetched it ahead of this pull): it is not
   * requested again. Returns false when it was done or unknown. A copy in flight is let arrive.
   */
  skip (cid: BlockWant['cid']): boolean {
    const w = this.wants.find(x => !x.done && x.want.cid.equals(cid))
    if (w === undefined) return false
    w.done = true
    this.remaining--
    this.lastProgress = this.now()
    this.notify()
    return true
  }

  private holds = 0

  /** No new blocks are handed out until the returned function is called (more urgent fetches run). */
  hold (): () => void {
    this.holds++
    let released = false
    return () => {
      if (released) return
      released = true
      this.holds--
      this.notify()
    }
  }

  /** Peers this pull knows of (the pull keeps asking them, connected or not). */
  knownPeers (): string[] { return [...this.peers.keys()] }

  /** Why the pull may not fetch from other sites now, or undefined. */
  wanBlocker (now = this.now()): string | undefined {
    if (now - this.requestedAt < this.o.wanStartDelayMs) return 'start delay'
    if (this.site.size === 0 && now - this.createdAt < this.o.lanWaitMs) return 'no same-site peer known yet'
    return this.site.blocker(now)
  }

  /** Deprioritizes `peer` for a while (doubling on each repeat). */
  penalize (peer: string, why: string): void {
    const p = this.peers.get(peer)
    if (p === undefined) return
    p.penaltyUntil = this.now() + this.o.penaltyMs * 2 ** p.penalties++
    this.o.onPenalty?.(peer, why)
    this.notify()
  }

  isPenalized (peer: string): boolean { return (this.peers.get(peer)?.penaltyUntil ?? 0) > this.now() }

  /** Bytes per second measured from `peer`. */
  rateOf (peer: string): number { return this.peers.get(peer)?.rate ?? 0 }

  /**
   * The site's pulling group: this node and the same-site peers pulling and asking its holdings (stalled: those
   * making progress). A penalized member stays in: the penalty is about fetching from it, and it still fetches its share.
   */
  private group (now: number, stalled: boolean): string[] {
    return this.site.group(now, stalled ? DEADLOCK_MS : undefined)
  }

  /** Identify says `peer` is in this node's site: until it answers a have request, what it holds is unknown. */
  expectSitePeer (peer: string): void { this.site.expect(peer, this.now()) }

  /** Which member of the site's group fetches each block over the WAN. */
  private readonly rendezvous = new Rendezvous()

  /** A same-site peer holds block i, or has requested it from another site. */
  private siteHasOrClaims (i: number): boolean {
    const now = this.now()
    for (const [id, p] of this.peers) {
      if (!p.lan) continue
      if (p.claims[i] === 1) return true
      if (p.holds[i] === 1 && p.penaltyUntil <= now && this.wants[i].refusedBy?.has(id) !== true) return true
    }
    return false
  }

  private window (p: PeerState): number {
    // over the WAN start small: until same-site peers are known, every block taken may be another member's
    if (p.rate === 0) return p.lan ? this.o.initialWindowBytes : WAN_INITIAL_WINDOW_BYTES
    return Math.min(this.o.maxWindowBytes, Math.max(1024 * 1024, p.rate * this.o.pipelineSeconds))
  }

  take (peer: string, maxBytes: number, maxCount: number): BlockWant[] {
    const p = this.peers.get(peer)
    const now = this.now()
    if (p === undefined || p.penaltyUntil > now || this.holds > 0) return []
    const budget = Math.min(maxBytes, this.window(p) - p.inFlight)
    if (budget <= 0) return []
    const stalled = now - this.lastProgress > DEADLOCK_MS
    // over the WAN only once same-site pullers count this node and their claims are known (the fence)
    if (!p.lan && !stalled && this.wanBlocker(now) !== undefined) { this.wakeIn(250); return [] }
    const group = p.lan ? [] : this.group(now, stalled)
    const eligible = (i: number): boolean => {
      const w = this.wants[i]
      if (w.done || p.holds[i] !== 1 || w.refusedBy?.has(peer) === true || w.at.has(peer)) return false
      // over the WAN only what no same-site peer holds or claims, and only this node's share of the site's group
      // (after DEADLOCK_MS without progress, of the members still making progress: a member that never fetches loses its share)
      return p.lan || (!this.siteHasOrClaims(i) && this.rendezvous.owner(w.hash, group) === this.o.self)
    }
    let candidates: number[] = []
    for (let i = 0; i < this.wants.length; i++) if (this.wants[i].at.size === 0 && eligible(i)) candidates.push(i)
    if (candidates.length === 0) {
      // endgame: blocks requested elsewhere a while ago, asked of a second same-site peer (never a second WAN copy:
      // a WAN request that stalls is released by the session's timeout)
      for (let i = 0; i < this.wants.length; i++) {
        const w = this.wants[i]
        if (p.lan && w.at.size === 1 && eligible(i) && now - [...w.at.values()][0] > this.o.endgameAfterMs) candidates.push(i)
      }
      if (candidates.length === 0 && this.wants.some(w => !w.done && w.at.size > 0)) this.wakeIn(this.o.endgameAfterMs)
    }
    candidates = candidates.sort((a, b) => (this.wants[a].holders - this.wants[b].holders) || (this.wants[a].rank - this.wants[b].rank))
    const out: BlockWant[] = []
    let bytes = 0
    for (const i of candidates) {
      if (out.length >= maxCount || (out.length > 0 && bytes + this.wants[i].want.length > budget)) break
      if (!p.lan && !this.o.wan.tryTake(this.wants[i].want.length)) { this.wakeIn(this.o.wan.waitMs()); break }
      const w = this.wants[i]
      w.at.set(peer, now)
      if (!p.lan) this.o.claims?.set(w.want.index)
      out.push(w.want)
      bytes += w.want.length
    }
    p.inFlight += bytes
    return out
  }

  private settle (peer: string, want: BlockWant): WantState | undefined {
    const w = this.wants[this.indexOf.get(want as SwarmWant) ?? -1]
    const p = this.peers.get(peer)
    if (w === undefined || !w.at.delete(peer)) return undefined
    if (p !== undefined) p.inFlight -= want.length
    if (![...w.at.keys()].some(id => this.peers.get(id)?.lan === false)) this.o.claims?.clear(w.want.index)
    return w
  }

  received (peer: string, want: BlockWant): void {
    this.site.heard(this.now())
    const w = this.settle(peer, want)
    const p = this.peers.get(peer)
    if (p !== undefined) {
      const now = this.now()
      p.windowBytes += want.length
      if (now - p.windowStart >= 250) {
        const rate = p.windowBytes / ((now - p.windowStart) / 1000)
        p.rate = p.rate === 0 ? rate : 0.6 * p.rate + 0.4 * rate
        p.windowStart = now
        p.windowBytes = 0
      }
    }
    if (w !== undefined && !w.done) {
      w.done = true
      this.remaining--
      this.lastProgress = this.now()
    }
    this.notify()
  }

  notFound (peer: string, want: BlockWant): void {
    const w = this.settle(peer, want)
    const p = this.peers.get(peer)
    if (w !== undefined) {
      (w.refusedBy ??= new Set()).add(peer)
      const i = this.indexOf.get(want as SwarmWant) as number
      if (p !== undefined && p.holds[i] === 1 && !w.done) {
        p.holds[i] = 0
        w.holders--
        // it advertised the block: a lie, or a block it lost; either way ask it less
        if (++p.lies >= LIES_BEFORE_PENALTY) { p.lies = 0; this.penalize(peer, 'refused blocks it advertised') }
      }
    }
    this.notify()
  }

  release (peer: string, wants: Iterable<BlockWant>): void {
    for (const want of wants) this.settle(peer, want)
    this.notify()
  }

  mayHaveWorkFor (peer: string): boolean {
    const p = this.peers.get(peer)
    if (this.remaining === 0 || p === undefined || p.state === 'none') return false
    if (p.state === 'partial') return true
    return this.wants.some(w => !w.done && w.refusedBy?.has(peer) !== true)
  }

  async changed (): Promise<void> {
    return new Promise(resolve => { this.waiters.push(resolve) })
  }

  /** Wakes every waiting session (the pull is stopping). */
  close (): void {
    clearTimeout(this.timer)
    this.notify()
  }

  private wakeIn (ms: number): void {
    if (this.timer !== undefined) return
    this.timer = setTimeout(() => { this.timer = undefined; this.notify() }, Math.max(5, ms))
  }

  private notify (): void {
    if (this.waiters.length === 0) return
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
