import { SingleBar } from 'cli-progress'
import { createRateWindow, type ProgressEvent } from '@cachecloud/core'
import { formatBytes, formatDuration, formatRate } from './format.js'

/** Renders progress events: a bar with rate and ETA on a terminal, a line every few seconds otherwise, nothing with --json. */
export interface ProgressRenderer {
  update(event: ProgressEvent): void
  stop(): void
}

/** Without a terminal: one progress line this often, the first only once the operation has run this long (a quick one prints none). */
const LINE_INTERVAL_MS = 5000

/**
 * Rate and ETA of an operation's progress events, by core's rate window (as the daemon's jobs and
 * swarm pulls): a resumed pull starts with bytes already done and is measured from there. Unknown
 * (shown as ?) until the events span a quarter of a second; a finished operation always has its
 * average rate and ETA 0, however quickly it ran (a fast disk imports 96 MiB in under a quarter of a second).
 */
export function meter (now: () => number = () => performance.now()): (event: Pick<ProgressEvent, 'done' | 'total'>) => { rate: number | null, eta: number | null } {
  const window = createRateWindow({ now })
  return (event) => {
    window.record(event.done, event.total)
    const { rate, etaSeconds } = window.read()
    return { rate, eta: etaSeconds }
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
