import { escapeControl } from '@cachecloud/core/escape'

export { formatBytes, formatRate } from '@cachecloud/core/units'

export function formatDuration (seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '?'
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`
  const m = Math.floor(seconds / 60)
  return m < 60 ? `${m}m${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`
}

/** A plain text table: columns padded to their widest cell; control characters in cells (names from peers, stores, files) shown escaped. */
export function table (header: string[], cells: string[][]): string {
  const rows = cells.map(r => r.map(escapeControl))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
