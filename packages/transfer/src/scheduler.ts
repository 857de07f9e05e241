import type { CID } from '@cachecloud/core'

/** A block a pull still needs. */
export interface BlockWant {
  cid: CID
  /** Expected length in bytes (from the manifest). */
  length: number
}

/**
 * Decides which peer fetches which block. Block sessions (one per peer) ask
 * for work as their pipeline frees up and report back; a swarm scheduler
 * (rarest-first over per-block availability) can replace the work queue here.
 */
export interface PullScheduler {
  /** Blocks for `peer` to request next, at most `maxBytes` (at least one block) and `maxCount`; they count as in flight. */
  take(peer: string, maxBytes: number, maxCount: number): BlockWant[]
  /** `peer` delivered the block and it is stored. */
  received(peer: string, want: BlockWant): void
  /** `peer` does not hold the block; another peer should be asked. */
  notFound(peer: string, want: BlockWant): void
  /** `peer` failed or stopped: its unanswered blocks go back to be fetched elsewhere. */
  release(peer: string, wants: Iterable<BlockWant>): void
  /** Blocks not yet stored. */
  readonly remaining: number
  /** True when `peer` may still get work: pending blocks it has not refused, or blocks in flight elsewhere that may come back. */
  mayHaveWorkFor(peer: string): boolean
  /** Resolves at the next state change (released, refused or received blocks). */
  changed(): Promise<void>
}

/** Work queue: every peer takes the next pending blocks it has not refused, so faster peers take more (work stealing). */
export function createWorkQueueScheduler (wants: BlockWant[]): PullScheduler {
  return new WorkQueueScheduler(wants)
}

class WorkQueueScheduler implements PullScheduler {
  private readonly fresh: BlockWant[]
  private cursor = 0
  /** Blocks back from failed or refusing peers, tried before fresh ones. */
  private returned: BlockWant[] = []
  private readonly refusedBy = new Map<BlockWant, Set<string>>()
  private inFlight = 0
  remaining: number
  private waiters: Array<() => void> = []

  constructor (wants: BlockWant[]) {
    this.fresh = wants
    this.remaining = wants.length
  }

  take (peer: string, maxBytes: number, maxCount: number): BlockWant[] {
    const out: BlockWant[] = []
    let bytes = 0
    // the first block always fits; the rest only within maxBytes
    const fits = (want: BlockWant): boolean => out.length < maxCount && (out.length === 0 || bytes + want.length <= maxBytes)
    if (this.returned.length > 0) {
      const keep: BlockWant[] = []
      for (const want of this.returned) {
        if (!fits(want) || this.refusedBy.get(want)?.has(peer) === true) { keep.push(want); continue }
        out.push(want)
        bytes += want.length
      }
      this.returned = keep
    }
    while (this.cursor < this.fresh.length && fits(this.fresh[this.cursor])) {
      const want = this.fresh[this.cursor++]
      out.push(want)
      bytes += want.length
    }
    this.inFlight += out.length
    return out
  }

  received (_peer: string, want: BlockWant): void {
    this.inFlight--
    this.remaining--
    this.refusedBy.delete(want)
    this.notify()
  }

  notFound (peer: string, want: BlockWant): void {
    let refused = this.refusedBy.get(want)
    if (refused === undefined) this.refusedBy.set(want, refused = new Set())
    refused.add(peer)
    this.inFlight--
    this.returned.push(want)
    this.notify()
  }

  release (_peer: string, wants: Iterable<BlockWant>): void {
    for (const want of wants) {
      this.inFlight--
      this.returned.push(want)
    }
    this.notify()
  }

  mayHaveWorkFor (peer: string): boolean {
    if (this.cursor < this.fresh.length || this.inFlight > 0) return true
    return this.returned.some(want => this.refusedBy.get(want)?.has(peer) !== true)
  }

  async changed (): Promise<void> {
    return new Promise(resolve => { this.waiters.push(resolve) })
  }

  private notify (): void {
    if (this.waiters.length === 0) return
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
