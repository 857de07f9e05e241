/**
 * One rate and ETA for every long operation (daemon jobs, swarm pulls, the CLI's
 * progress bar): a sliding window over (time, done) samples.
 *
 * - While running, the rate is what moved over the last `windowMs`, read at the
 *   clock's now (a stalled operation's rate falls); unknown (null) while the
 *   samples span less than `minSpanMs` (a first burst says nothing).
 * - A finished operation (done reached a known total, or finish() was called)
 *   reports its average rate over its whole run and an ETA of 0, however quickly
 *   it ran; its rate is null only when it took no measurable time.
 */

/** Span the running rate is averaged over. */
export const DEFAULT_RATE_WINDOW_MS = 5000
/** Shortest span of samples a running rate is given for. */
export const DEFAULT_RATE_MIN_SPAN_MS = 250

export interface RateWindowInit {
  /** Default DEFAULT_RATE_WINDOW_MS. */
  windowMs?: number
  /** Default DEFAULT_RATE_MIN_SPAN_MS. */
  minSpanMs?: number
  /** Milliseconds, monotonic; default performance.now (tests move a clock by hand). */
  now?: () => number
}

export interface RateReading {
  /** Units (bytes, blocks) per second; null while unknown. */
  rate: number | null
  /** Seconds left at that rate; 0 once finished, null while unknown. */
  etaSeconds: number | null
}

export interface RateWindow {
  /** How far the operation has got: `done` of `total` (cumulative; a resumed one starts above 0). */
  record(done: number, total: number): void
  /** The operation ended well (also implied by done reaching a known total). */
  finish(): void
  read(): RateReading
}

interface Sample { at: number, done: number }

class SlidingRateWindow implements RateWindow {
  private readonly windowMs: number
  private readonly minSpanMs: number
  private readonly now: () => number
  private readonly samples: Sample[] = []
  private first: Sample | undefined
  private total = 0
  private finished = false

  constructor (init: RateWindowInit) {
    this.windowMs = init.windowMs ?? DEFAULT_RATE_WINDOW_MS
    this.minSpanMs = init.minSpanMs ?? DEFAULT_RATE_MIN_SPAN_MS
    this.now = init.now ?? (() => performance.now())
  }

  record (done: number, total: number): void {
    const sample = { at: this.now(), done }
    this.first ??= sample
    this.total = total
    this.samples.push(sample)
    // two samples at least stay, so a stall between them still has a span
    while (this.samples.length > 2 && sample.at - this.samples[0].at > this.windowMs) this.samples.shift()
    if (total > 0 && done >= total) this.finished = true
  }

  finish (): void {
    this.finished = true
  }

  read (): RateReading {
    const last = this.samples.at(-1)
    if (this.finished) {
      const span = last === undefined || this.first === undefined ? 0 : last.at - this.first.at
      return { rate: span > 0 && last !== undefined && this.first !== undefined ? (last.done - this.first.done) / (span / 1000) : null, etaSeconds: 0 }
    }
    const oldest = this.samples[0]
    if (last === undefined || oldest === undefined) return { rate: null, etaSeconds: null }
    const span = this.now() - oldest.at
    if (span < this.minSpanMs || span <= 0) return { rate: null, etaSeconds: null }
    const rate = (last.done - oldest.done) / (span / 1000)
    return { rate, etaSeconds: rate > 0 ? Math.max(0, this.total - last.done) / rate : null }
  }
}

export function createRateWindow (init: RateWindowInit = {}): RateWindow {
  return new SlidingRateWindow(init)
}
