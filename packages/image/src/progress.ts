import type { ProgressEvent } from '@cachecloud/core'
import { PROGRESS_INTERVAL_MS } from './constants.js'

/** Rate-limits progress events; the final event (done === total) always goes out. */
export function throttledProgress<T extends string> (type: T, total: number, onProgress?: (event: ProgressEvent<T>) => void): (done: number) => void {
  if (onProgress === undefined) return () => {}
  let last = 0
  return (done) => {
    const now = Date.now()
    if (done < total && now - last < PROGRESS_INTERVAL_MS) return
    last = now
    onProgress({ type, done, total, unit: 'bytes' })
  }
}
