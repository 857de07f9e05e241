export { formatBytes, formatRate } from '@cachecloud/core/units'

export function formatDuration (seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return 'unknown'
  if (seconds < 60) return `${Math.ceil(seconds)} s`
  const m = Math.floor(seconds / 60)
  return m < 60 ? `${m} min ${Math.round(seconds % 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`
}

export function formatPercent (done: number, total: number): string {
  return `${total > 0 ? Math.floor(100 * done / total) : 0}%`
}
