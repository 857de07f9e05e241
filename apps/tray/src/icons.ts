import { crc32, deflateSync } from 'node:zlib'
import type { IconName } from './model.js'

type Rgb = [number, number, number]

const COLORS: Record<IconName, Rgb> = {
  'up-to-date': [26, 127, 55],
  syncing: [9, 105, 218],
  pending: [154, 103, 0],
  offline: [154, 103, 0],
  paused: [110, 119, 129],
  error: [207, 34, 46],
  down: [87, 96, 106]
}

/** Distance from point p to segment a-b, in unit coordinates. */
function segment (px: number, py: number, ax: number, ay: number, bx: number, by: number): number {
  const dx = bx - ax
  const dy = by - ay
  const t = Math.max(0, Math.min(1, ((px - ax) * dx + (py - ay) * dy) / (dx * dx + dy * dy)))
  return Math.hypot(px - (ax + t * dx), py - (ay + t * dy))
}

/** The white glyph of each icon, as strokes in a unit square (0..1). */
const GLYPHS: Record<IconName, Array<[number, number, number, number]>> = {
  'up-to-date': [[0.28, 0.52, 0.44, 0.68], [0.44, 0.68, 0.72, 0.34]],
  syncing: [[0.5, 0.25, 0.5, 0.72], [0.3, 0.52, 0.5, 0.72], [0.7, 0.52, 0.5, 0.72]],
  pending: [[0.3, 0.5, 0.3, 0.5], [0.5, 0.5, 0.5, 0.5], [0.7, 0.5, 0.7, 0.5]],
  offline: [[0.3, 0.3, 0.7, 0.7], [0.7, 0.3, 0.3, 0.7]],
  paused: [[0.4, 0.3, 0.4, 0.7], [0.6, 0.3, 0.6, 0.7]],
  error: [[0.5, 0.25, 0.5, 0.58], [0.5, 0.74, 0.5, 0.74]],
  down: [[0.32, 0.5, 0.68, 0.5]]
}

/** One pixel's coverage: 0 outside, 1 disc, 2 glyph. */
function shade (icon: IconName, x: number, y: number): number {
  const r = Math.hypot(x - 0.5, y - 0.5)
  if (r > 0.48) return 0
  if (GLYPHS[icon].some(([ax, ay, bx, by]) => segment(x, y, ax, ay, bx, by) < 0.075)) return 2
  return 1
}

function chunk (type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.byteLength, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

/**
 * A tray icon as PNG bytes (RGBA, `size` pixels square, 4x4 supersampled):
 * a disc in the state's color with a white glyph (check, arrow, dots, cross,
 * bars, exclamation mark, dash). Drawn in code so the app ships no binaries.
 */
export function iconPng (icon: IconName, size: number): Buffer {
  const rows = Buffer.alloc(size * (size * 4 + 1))
  const [r, g, b] = COLORS[icon]
  const n = 4
  for (let y = 0; y < size; y++) {
    const row = y * (size * 4 + 1)
    for (let x = 0; x < size; x++) {
      let disc = 0
      let glyph = 0
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const s = shade(icon, (x + (sx + 0.5) / n) / size, (y + (sy + 0.5) / n) / size)
          if (s > 0) disc++
          if (s === 2) glyph++
        }
      }
      const white = glyph / Math.max(disc, 1)
      const at = row + 1 + x * 4
      rows[at] = Math.round(r + (255 - r) * white)
      rows[at + 1] = Math.round(g + (255 - g) * white)
      rows[at + 2] = Math.round(b + (255 - b) * white)
      rows[at + 3] = Math.round(255 * disc / (n * n))
    }
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header[8] = 8 // bit depth
  header[9] = 6 // RGBA
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))])
}
