import { SingleBar } from 'cli-progress'
import type { ProgressEvent } from '@cachecloud/core'
import { formatBytes, formatDuration, formatRate } from './format.js'

/** Renders progress events: a bar with rate and ETA on a terminal, a line every few seconds otherwise, nothing with --json. */
export interface ProgressRenderer {
  update(event: ProgressEvent): void
  stop(): void
}

/** Without a terminal: one progress line this often, the first only once the operation has run this long (a quick one prints none). */
const LINE_INTERVAL_MS = 5000

/** Shortest span a rate is averaged over while the operation runs; a finished one is averaged over however long it took. */
const MIN_RATE_SPAN_S = 0.25

/**
 * Rate and ETA from what moved since the first event (a resumed pull starts with bytes already done).
 * Unknown (shown as ?) until there is something to average over; a finished operation always has its rate and ETA 0,
 * however quickly it ran (a fast disk imports 96 MiB in under a quarter of a second).
 */
export function meter (now: () => number = () => performance.now()): (event: Pick<ProgressEvent, 'done' | 'total'>) => { rate: number | null, eta: number | null } {
  let first: { at: number, done: number } | undefined
  return (event) => {
    const at = now()
    first ??= { at, done: event.done }
    const seconds = (at - first.at) / 1000
    const finished = event.total > 0 && event.done >= event.total
    const rate = seconds > MIN_RATE_SPAN_S || (finished && seconds > 0) ? (event.done - first.done) / seconds : null
    if (finished) return { rate, eta: 0 }
    return { rate, eta: rate !== null && rate > 0 ? Math.max(0, event.total - event.done) / rate : null }
  }
}

export function createProgressRenderer (label: string, mode: { json: boolean }): ProgressRenderer {
  if (mode.json) return { update: () => {}, stop: () => {} }
  const measure = meter()
  if (process.stderr.isTTY) {
    let bar: SingleBar | undefined
    return {
      update (event) {
        const { rate, eta } = measure(event)
        const payload = { label, doneText: formatBytes(event.done), totalText: formatBytes(event.total), rateText: rate === null ? '? B/s' : formatRate(rate), etaText: formatDuration(eta) }
        if (bar === undefined) {
          bar = new SingleBar({
            // our own ETA: cli-progress's prints NaN or INF before the rate is known
            format: '{label} [{bar}] {percentage}% | {doneText}/{totalText} | {rateText} | ETA {etaText}',
            stream: process.stderr,
            hideCursor: true
          })
          bar.start(Math.max(event.total, 1), event.done, payload)
        }
        bar.setTotal(Math.max(event.total, 1))
        bar.update(event.done, payload)
      },
      stop () { bar?.stop() }
    }
  }
  const started = Date.now()
  let last = started
  return {
    update (event) {
      const { rate, eta } = measure(event)
      if (Date.now() - last < LINE_INTERVAL_MS) return
      last = Date.now()
      const percent = event.total > 0 ? Math.floor(100 * event.done / event.total) : 0
      process.stderr.write(`${label}: ${percent}% ${formatBytes(event.done)}/${formatBytes(event.total)} ${rate === null ? '? B/s' : formatRate(rate)} ETA ${formatDuration(eta)}\n`)
    },
    stop () {}
  }
}
