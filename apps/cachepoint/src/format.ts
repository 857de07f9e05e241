import { escapeControl } from '@cachecloud/core/escape'
import { formatBytes as formatUnits } from '@cachecloud/core/units'

/** `1536` -> `1.5 KiB`; fractions of a byte (averages, rates) are rounded: `576 B`, never `575.95442 B`. */
export function formatBytes (bytes: number): string {
  return formatUnits(Number.isFinite(bytes) ? Math.round(bytes) : 0)
}

/** Bytes per second as `12.5 MiB/s`. */
export function formatRate (bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}

/** `1 block`, `2 blocks`, `0 blocks`: a count with its noun, singular only for one. */
export function count (n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`
}

export function formatDuration (seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds) || seconds < 0) return '?'
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)}s`
  const m = Math.floor(seconds / 60)
  return m < 60 ? `${m}m${Math.round(seconds % 60)}s` : `${Math.floor(m / 60)}h${m % 60}m`
}

/** Cuts a text to one line of at most `max` characters. */
export function truncate (text: string, max: number): string {
  const line = text.split('\n')[0]
  return line.length <= max ? line : `${line.slice(0, max - 3)}...`
}

/** A plain text table: columns padded to their widest cell; control characters in cells (names from peers, stores, files) shown escaped. */
export function table (header: string[], rows: string[][]): string {
  return tableLines(header, rows).join('\n')
}

/** The lines of a table (header first), for callers that put notes between rows; cells escaped as in `table`. */
export function tableLines (header: string[], cells: string[][]): string[] {
  const rows = cells.map(r => r.map(escapeControl))
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map(r => (r[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), ...rows.map(line)]
}
