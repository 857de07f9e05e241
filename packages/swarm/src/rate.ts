import { WAN_BURST_SECONDS } from './constants.js'
import { InvalidRateError } from './errors.js'

/** A WAN rate budget: bytes per second, optionally different by hour of day (e.g. full rate at night). */
export interface WanRateConfig {
  /** Bytes per second (or a string: `2mbit`, `500kbit`, `10MB`); unset or 0: unlimited. */
  maxRate?: number | string
  /** Overrides by local hour, e.g. `[{ from: 8, to: 18, maxRate: '2mbit' }]`; the first match wins. */
  schedule?: Array<{ from: number, to: number, maxRate: number | string }>
}

const UNITS: Record<string, number> = {
  bit: 1 / 8,
  kbit: 1000 / 8,
  mbit: 1e6 / 8,
  gbit: 1e9 / 8,
  b: 1,
  kb: 1000,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 * 1024
}

/** Bytes per second from a number or `2mbit`, `500kbit`, `10MB`, `4MiB`. */
export function parseRate (rate: number | string): number {
  if (typeof rate === 'number') {
    if (!Number.isFinite(rate) || rate < 0) throw new InvalidRateError(`rate must be a non-negative number of bytes per second, got ${rate}`)
    return rate
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)(?:\/s|ps)?\s*$/.exec(rate)
  const unit = m?.[2].toLowerCase() === '' ? 'b' : m?.[2].toLowerCase()
  if (m === null || unit === undefined || UNITS[unit] === undefined) throw new InvalidRateError(`not a rate: ${JSON.stringify(rate)} (e.g. 2mbit, 500kbit, 10MB)`)
  return Number(m[1]) * UNITS[unit]
}

/** Token bucket for bytes crossing the WAN; the rate follows the schedule. */
export class RateBudget {
  private tokens: number
  private last: number
  private readonly schedule: Array<{ from: number, to: number, rate: number }>
  private readonly baseRate: number

  /** `now` is the wall clock (the schedule's hours), `monotonic` milliseconds (the bucket's refill); tests pass clocks they move by hand. */
  constructor (
    config: WanRateConfig = {},
    private readonly now: () => Date = () => new Date(),
    private readonly monotonic: () => number = () => performance.now()
  ) {
    this.last = monotonic()
    this.baseRate = parseRate(config.maxRate ?? 0)
    this.schedule = (config.schedule ?? []).map(s => {
      if (!(s.from >= 0 && s.from <= 24 && s.to >= 0 && s.to <= 24)) throw new InvalidRateError(`schedule hours must be 0-24, got ${s.from}-${s.to}`)
      return { from: s.from, to: s.to, rate: parseRate(s.maxRate) }
    })
    this.tokens = this.burst
  }

  /** Bytes per second now; 0: unlimited. */
  get rate (): number {
    const hour = this.now().getHours()
    for (const s of this.schedule) {
      if (s.from <= s.to ? hour >= s.from && hour < s.to : hour >= s.from || hour < s.to) return s.rate
    }
    return this.baseRate
  }

  private get burst (): number { return this.rate * WAN_BURST_SECONDS }

  private refill (): void {
    const t = this.monotonic()
    const rate = this.rate
    this.tokens = Math.min(Math.max(this.burst, 1), this.tokens + (t - this.last) / 1000 * rate)
    this.last = t
  }

  /** Takes `bytes` if the budget allows now (a debt of one request is allowed, so blocks larger than the burst still pass). */
  tryTake (bytes: number): boolean {
    if (this.rate === 0) return true
    this.refill()
    if (this.tokens <= 0) return false
    this.tokens -= bytes
    return true
  }

  /** Milliseconds until tryTake can succeed again. */
  waitMs (): number {
    if (this.rate === 0) return 0
    this.refill()
    return this.tokens > 0 ? 0 : Math.ceil(-this.tokens / this.rate * 1000) + 1
  }

  /** Waits until `bytes` may be sent (used for serving blocks to peers of other sites). */
  async take (bytes: number, signal?: AbortSignal): Promise<void> {
    while (!this.tryTake(bytes)) {
      signal?.throwIfAborted()
      await new Promise(resolve => setTimeout(resolve, Math.max(5, this.waitMs())))
    }
  }
}
