import type { Libp2p, PeerId } from '@libp2p/interface'
import type { CID } from '@cachecloud/core'
import { requestHave, type HaveAnswer } from '@cachecloud/swarm'
import { withTimeout } from '@cachecloud/transfer'
import { HAVE_REQUEST_TIMEOUT_MS } from './constants.js'

/** What each connected peer holds of one version (have protocol), asked again when older than `maxAgeMs`. */
export class Holders {
  private answers = new Map<string, { peer: PeerId, answer: HaveAnswer }>()
  private at = 0
  private refreshing: Promise<void> | undefined

  constructor (private readonly libp2p: Libp2p, private readonly manifest: CID, private readonly site: string, private readonly maxAgeMs: number) {}

  /** Asks every connected peer again unless the answers are fresh (or `force`). */
  async refresh (signal: AbortSignal, force = false): Promise<void> {
    if (!force && Date.now() - this.at < this.maxAgeMs) return
    this.refreshing ??= (async () => {
      const next = new Map<string, { peer: PeerId, answer: HaveAnswer }>()
      await Promise.all(this.libp2p.getPeers().map(async peer => {
        try {
          const answer = await requestHave(this.libp2p, peer, this.manifest, withTimeout(HAVE_REQUEST_TIMEOUT_MS, signal))
          if (answer.state !== 'none') next.set(peer.toString(), { peer, answer })
        } catch {
          // unreachable now: not asked for blocks until it answers again
        }
      }))
      this.answers = next
      this.at = Date.now()
    })().finally(() => { this.refreshing = undefined })
    await this.refreshing
  }

  holds (peer: string, index: number): boolean {
    const a = this.answers.get(peer)?.answer
    if (a === undefined || a.state === 'none') return false
    if (a.state === 'complete') return true
    return index < a.count && (a.bitmap[index >> 3] & (1 << (index & 7))) !== 0
  }

  /** Peers holding any of `indexes`: same-site ones first, then complete holders. */
  peersFor (indexes: number[]): PeerId[] {
    const out = [...this.answers.entries()].filter(([id]) => indexes.some(i => this.holds(id, i)))
    const rank = ([, v]: [string, { answer: HaveAnswer }]): number => (this.site !== '' && v.answer.site === this.site ? 0 : 2) + (v.answer.state === 'complete' ? 0 : 1)
    return out.sort((a, b) => rank(a) - rank(b)).map(([, v]) => v.peer)
  }

  get peers (): number { return this.answers.size }
}
