import { SingleBar } from 'cli-progress'
import type { ProgressEvent } from '@cachecloud/core'
import { formatBytes, formatDuration, formatRate } from './format.js'

/** Renders progress events: a bar with rate and ETA on a terminal, a line every few seconds otherwise, nothing with --json. */
export interface ProgressRenderer {
  update(event: ProgressEvent): void
  stop(): void
}

const LINE_INTERVAL_MS = 2000

export function createProgressRenderer (label: string, mode: { json: boolean }): ProgressRenderer {
  if (mode.json) return { update: () => {}, stop: () => {} }
  const started = Date.now()
  const rateOf = (done: number): number => done / Math.max(0.001, (Date.now() - started) / 1000)
  if (process.stderr.isTTY) {
    let bar: SingleBar | undefined
    return {
      update (event) {
        const payload = { label, doneText: formatBytes(event.done), totalText: formatBytes(event.total), rateText: formatRate(rateOf(event.done)) }
        if (bar === undefined) {
          bar = new SingleBar({
            format: '{label} [{bar}] {percentage}% | {doneText}/{totalText} | {rateText} | ETA {eta_formatted}',
            stream: process.stderr,
            hideCursor: true,
            etaBuffer: 50
          })
          bar.start(Math.max(event.total, 1), event.done, payload)
        }
        bar.setTotal(Math.max(event.total, 1))
        bar.update(event.done, payload)
      },
      stop () { bar?.stop() }
    }
  }
  let last = 0
  return {
    update (event) {
      if (Date.now() - last < LINE_INTERVAL_MS) return
      last = Date.now()
      const rate = rateOf(event.done)
      const percent = event.total > 0 ? Math.floor(100 * event.done / event.total) : 0
      const eta = rate > 0 ? (event.total - event.done) / rate : null
      process.stderr.write(`${label}: ${percent}% ${formatBytes(event.done)}/${formatBytes(event.total)} ${formatRate(rate)} ETA ${formatDuration(eta)}\n`)
    },
    stop () {}
  }
}
