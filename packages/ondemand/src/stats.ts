import { LATENCY_SAMPLES } from './constants.js'

/** Counters of an image device, as status shows them. */
export interface ImageDeviceStats {
  /** Reads served, and their bytes. */
  reads: number
  readBytes: number
  /** Reads that had to fetch at least one block from peers. */
  onDemandReads: number
  /** Blocks (and bytes) fetched for reads, verified and stored. */
  fetchedBlocks: number
  fetchedBytes: number
  /** Bytes fetched for reads, by peer id. */
  fetchedByPeer: Record<string, number>
  /** Bytes read off block streams for reads, framing included. */
  wireBytes: number
  /** Blocks read from the local store, and holes (zeros, no store, no network). */
  localBlocks: number
  holeBlocks: number
  /** Reads that failed (no peer delivered a block in time, or a local error). */
  failedReads: number
  /** Latency of on-demand reads, milliseconds (null before the first). */
  onDemandLatencyMs: { mean: number, p50: number, p95: number, max: number } | null
  /** Mean latency of reads served locally, milliseconds. */
  localLatencyMs: number | null
}

/** Running latency figures: mean and max over all, percentiles over the last LATENCY_SAMPLES. */
export class Latency {
  private readonly samples: number[] = []
  private next = 0
  private count = 0
  private sum = 0
  private max = 0

  add (ms: number): void {
    if (this.samples.length < LATENCY_SAMPLES) this.samples.push(ms)
    else { this.samples[this.next] = ms; this.next = (this.next + 1) % LATENCY_SAMPLES }
    this.count++
    this.sum += ms
    this.max = Math.max(this.max, ms)
  }

  get mean (): number | null { return this.count === 0 ? null : this.sum / this.count }

  summary (): { mean: number, p50: number, p95: number, max: number } | null {
    if (this.count === 0) return null
    const sorted = [...this.samples].sort((a, b) => a - b)
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]
    return { mean: this.sum / this.count, p50: at(0.5), p95: at(0.95), max: this.max }
  }
}
