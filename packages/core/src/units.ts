// Byte counts for people, shared by the CLI and the status page (a browser
// bundle: this module imports nothing, so the page can take it alone through
// the `@cachecloud/core/units` subpath).

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB']

/** `1536` -> `1.5 KiB`; binary units, one decimal below 100; fractions of a byte (averages, rates) rounded: `576 B`, never `575.95442 B`. */
export function formatBytes (bytes: number): string {
  let value = Number.isFinite(bytes) ? bytes : 0
  let unit = 0
  while (Math.abs(value) >= 1024 && unit < UNITS.length - 1) { value /= 1024; unit++ }
  return unit === 0 ? `${Math.round(value)} B` : `${value.toFixed(value >= 100 ? 0 : 1)} ${UNITS[unit]}`
}

/** Bytes per second as `12.5 MiB/s`. */
export function formatRate (bytesPerSecond: number): string {
  return `${formatBytes(bytesPerSecond)}/s`
}
