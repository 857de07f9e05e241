import type { BlockWant, PullScheduler } from '@cachecloud/transfer'

/** Blocks one on-demand fetch needs, handed only to peers that hold them; a failed peer's blocks go to the next. */
export class OnDemandScheduler implements PullScheduler {
  private readonly pending = new Set<BlockWant>()
  private readonly inFlight = new Set<BlockWant>()
  private readonly refused = new Map<BlockWant, Set<string>>()
  private waiters: Array<() => void> = []
  remaining: number

  constructor (wants: BlockWant[], private readonly holds: (peer: string, want: BlockWant) => boolean) {
    for (const w of wants) this.pending.add(w)
    this.remaining = wants.length
  }

  private eligible (peer: string, w: BlockWant): boolean { return this.holds(peer, w) && this.refused.get(w)?.has(peer) !== true }

  take (peer: string, maxBytes: number, maxCount: number): BlockWant[] {
    const out: BlockWant[] = []
    let bytes = 0
    for (const w of this.pending) {
      if (out.length >= maxCount || (out.length > 0 && bytes + w.length > maxBytes)) break
      if (!this.eligible(peer, w)) continue
      out.push(w)
      bytes += w.length
    }
    for (const w of out) { this.pending.delete(w); this.inFlight.add(w) }
    return out
  }

  received (_peer: string, want: BlockWant): void {
    if (this.inFlight.delete(want)) this.remaining--
    this.notify()
  }

  notFound (peer: string, want: BlockWant): void {
    let r = this.refused.get(want)
    if (r === undefined) this.refused.set(want, r = new Set())
    r.add(peer)
    this.back(want)
  }

  release (_peer: string, wants: Iterable<BlockWant>): void {
    for (const w of wants) this.back(w)
  }

  private back (want: BlockWant): void {
    if (this.inFlight.delete(want)) this.pending.add(want)
    this.notify()
  }

  /** Blocks not yet requested (or back from a failed peer). */
  pendingWants (): BlockWant[] { return [...this.pending] }

  mayHaveWorkFor (peer: string): boolean {
    if (this.remaining === 0) return false
    return this.inFlight.size > 0 || [...this.pending].some(w => this.eligible(peer, w))
  }

  async changed (): Promise<void> {
    return await new Promise(resolve => { this.waiters.push(resolve) })
  }

  wake (): void { this.notify() }

  private notify (): void {
    const waiters = this.waiters
    this.waiters = []
    for (const wake of waiters) wake()
  }
}
