import { FENCE_MARGIN_MS, FENCE_WAIT_MS, HAVE_FAILURES_BEFORE_FORGET, LAN_ANSWER_WAIT_MS, LINK_SILENCE_MS } from './constants.js'

/** Requests sent this close together went out in the same polling round. */
const SAME_MOMENT_MS = 250

/** What this node knows of one same-site peer for one version (kept when the peer vanishes). */
interface Member {
  /** Its last have answer said it is pulling (partial). */
  pulling: boolean
  /** When it first and last asked this node's holdings. */
  lastPolled?: number
  firstPolled?: number
  /** It answered a have request sent after it knew this node is pulling: its claims are known. */
  fenced: boolean
  /**
   * Since when it could have asked this node's holdings: when it was first seen, when it answered again after
   * requests to it failed (this node's link back from a cut, during which its requests could not arrive either),
   * or when it was first seen pulling.
   */
  askableSince: number
  /** Send times of have requests to it that failed since its last answer. */
  failedSends: number[]
  /** Send time of the latest request it answered, and when that answer arrived. */
  answeredSent: number
  answeredAt: number
  /** Blocks it held at its last answer, and when that number last grew. */
  held: number
  grewAt: number
}

/**
 * This node's view of the site's pulling group for one version, and the fence that keeps two
 * members from fetching one block over the WAN.
 *
 * Membership: a same-site peer is a member while it is pulling and keeps asking this node's
 * holdings (a killed or cut member keeps its share `stallMs`). Each block's WAN fetcher is its
 * member by rendezvous hashing. Two members can only both think they own a block when one does
 * not count the other; so before any WAN request, a pull waits until every same-site puller it
 * can reach has asked this node's holdings (from then on it counts this node) and then answered
 * a have request (whose claimed bitmap lists every block it requested over the WAN before).
 */
export class SiteGroup {
  private readonly members = new Map<string, Member>()
  /** Send times of recent have requests that peers answered (this node's own link worked then). */
  private readonly answeredSends: number[] = []

  constructor (private readonly self: string, private readonly stallMs: number) {}

  /** Have requests in flight, by peer (any site; one at a time per peer), and when anything last came from any peer. */
  private readonly unanswered = new Map<string, number>()
  private lastHeard = -Infinity

  /** A have request to `peer` (any site) went out at `at`. */
  sent (peer: string, at: number): void {
    if (!this.unanswered.has(peer)) this.unanswered.set(peer, at)
  }

  /** Something came from a peer at `now` (an answer or a block): this node's link works. */
  heard (now: number): void {
    this.lastHeard = Math.max(this.lastHeard, now)
  }

  /** The request to `peer` was answered or failed (a failure is counted by `failed` for same-site peers). */
  settled (peer: string): void {
    this.unanswered.delete(peer)
  }

  /** `peer` asked this node's holdings of the version (from the have handler). */
  polledBy (peer: string, at: number): void {
    const m = this.members.get(peer)
    if (m === undefined) { if (!this.pendingPolls.has(peer) && !this.otherSites.has(peer)) this.pendingPolls.set(peer, at); return }
    this.notePoll(m, at)
  }

  private readonly pendingPolls = new Map<string, number>()
  /** Connected peers of this site (identify) that have not answered yet, and since when. */
  private readonly expected = new Map<string, number>()
  /** Peers that answered with another site (their polls say nothing about this site's group). */
  private readonly otherSites = new Set<string>()
  private notePoll (m: Member, at: number): void {
    m.firstPolled ??= at
    m.lastPolled = at
  }

  /** A have answer of a same-site peer to a request sent at `sentAt`, holding `held` blocks. */
  answered (peer: string, sentAt: number, pulling: boolean, held: number, now: number): void {
    let m = this.members.get(peer)
    this.expected.delete(peer)
    if (m === undefined) {
      m = { pulling, fenced: false, askableSince: now, failedSends: [], held, grewAt: now, answeredSent: sentAt, answeredAt: now }
      this.members.set(peer, m)
      const early = this.pendingPolls.get(peer)
      this.pendingPolls.delete(peer)
      if (early !== undefined) this.notePoll(m, early)
    }
    if (held > m.held) m.grewAt = now
    m.held = held
    // its requests to ask this node's holdings could not arrive while requests to it failed (this node's link cut),
    // and a peer that only now started pulling could not have asked before
    if (m.failedSends.length > 0 || (pulling && !m.pulling)) m.askableSince = now
    m.pulling = pulling
    m.failedSends = []
    m.answeredSent = Math.max(m.answeredSent, sentAt)
    m.answeredAt = now
    if (m.firstPolled !== undefined && sentAt >= m.firstPolled + FENCE_MARGIN_MS) m.fenced = true
    this.reached(sentAt)
  }

  /** A connected peer whose identify says it is in this site, not yet answered. */
  expect (peer: string, now: number): void {
    if (!this.members.has(peer) && !this.expected.has(peer)) this.expected.set(peer, now)
  }

  /** Any peer (same site or not) answered a request sent at `sentAt`: this node's link worked then. */
  reached (sentAt: number, peer?: string): void {
    if (peer !== undefined) { this.pendingPolls.delete(peer); this.otherSites.add(peer) }
    this.answeredSends.push(sentAt)
    if (this.answeredSends.length > 256) this.answeredSends.splice(0, 128)
  }

  /** A have request to a same-site peer, sent at `sentAt`, failed. */
  failed (peer: string, sentAt: number): void {
    this.members.get(peer)?.failedSends.push(sentAt)
  }

  /**
   * Gone for good: requests to it failed while requests sent at the same moment to other peers
   * were answered (so the failures are its, not this node's link). A node whose own link was cut
   * (every request failing) does not forget its site this way.
   */
  isGone (peer: string): boolean {
    const m = this.members.get(peer)
    if (m === undefined) return false
    const own = m.failedSends.filter(f => this.answeredSends.some(a => Math.abs(a - f) <= SAME_MOMENT_MS))
    return own.length >= HAVE_FAILURES_BEFORE_FORGET
  }

  /** A member still counts: it has asked this node's holdings, and it asked or answered within `stallMs`. */
  private live (m: Member, now: number): boolean {
    return m.pulling && m.lastPolled !== undefined && (now - m.lastPolled < this.stallMs || now - m.answeredAt < this.stallMs)
  }

  /**
   * This node and the same-site peers pulling that asked its holdings and asked or answered in
   * the last `stallMs`, sorted; `active`: only those whose holdings grew within `activeMs` (a pull that got nothing
   * for long shares the WAN with the members still making progress, not with one that stalls).
   */
  group (now: number, activeMs?: number): string[] {
    const out = [this.self]
    for (const [id, m] of this.members) {
      if (!this.live(m, now)) continue
      if (activeMs !== undefined && now - m.grewAt > activeMs) continue
      out.push(id)
    }
    return out.sort()
  }

  /** Why no WAN request may start now (undefined: it may). */
  blocker (now: number): string | undefined {
    let oldest = Infinity
    for (const at of this.unanswered.values()) oldest = Math.min(oldest, at)
    if (now - oldest >= LINK_SILENCE_MS && this.lastHeard < oldest) return `no answer from any peer for ${Math.round(now - oldest)} ms: this node's link may be down`
    let reachable = 0
    let failing: string | undefined
    for (const [id, m] of this.members) {
      // its request in flight for long, none failed: its answers (and its asks) may be held up on a link just back
      // from a cut, so what it last said is stale: a peer that was not pulling may be pulling now (bounded by the
      // request's timeout: once one fails it is taken as it last was)
      const asked = this.unanswered.get(id)
      const stale = asked !== undefined && now - asked >= LINK_SILENCE_MS && m.failedSends.length === 0
      if (!m.pulling && stale) return `waiting for a new answer of same-site peer ${id} (not pulling at its last answer)`
      if (!m.pulling || this.isGone(id)) continue
      if (m.failedSends.length > 0) failing ??= id; else reachable++
      // the lease: it counts this node for stallMs after it last handled this node's request or got this node's
      // answer (both no earlier than the times below); half of that gone (a slow or unreachable peer, or this
      // node's link), it may soon drop this node and take its share (only while it is in this node's group: a
      // member silent both ways for stallMs is gone from the group, and its share moves)
      const silent = now - Math.max(m.answeredSent, m.lastPolled ?? 0)
      if (silent >= this.stallMs / 2 && this.live(m, now)) return `same-site peer ${id} silent for ${Math.round(silent)} ms`
      if (this.live(m, now)) {
        if (!m.fenced) return `waiting for same-site peer ${id} to count this node`
      } else if (now - m.askableSince < FENCE_WAIT_MS || stale) {
        return `waiting for same-site peer ${id} to ask this node's holdings`
      }
    }
    // a same-site peer that has not answered yet may hold or claim any block (a slow peer, a node back from a cut)
    for (const [id, since] of this.expected) if (now - since < LAN_ANSWER_WAIT_MS) return `waiting for the first answer of same-site peer ${id}`
    // a peer asked what this node holds and its own answer (its site) is not in yet: it may be a same-site puller
    for (const [id, at] of this.pendingPolls) if (now - at < FENCE_WAIT_MS) return `waiting for the answer of ${id}, which asked this node's holdings`
    // every same-site puller unreachable: this node's own link is probably down, and what they hold is unknown
    if (failing !== undefined && reachable === 0) return `no same-site peer reachable (${failing} and others)`
    return undefined
  }

  /** Same-site peers ever seen for this version. */
  get size (): number { return this.members.size }
}
