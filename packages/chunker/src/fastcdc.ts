import { createHash, hkdfSync } from 'node:crypto'
import { GEAR_KEYED_INFO, GEAR_SEED } from './constants.js'
import { InvalidChunkerParamsError } from './errors.js'

/**
 * FastCDC (Xia et al., USENIX ATC 2016) with normalized chunking, on a
 * 32-bit gear hash: `h = (h << 1) + GEAR[byte]`. Bit k of h depends on the
 * last k+1 bytes only, so the masks test the top bits (the last 32 bytes) and
 * a boundary depends on nothing before that window: an edit moves only the
 * boundaries next to it. Before the average size a stricter mask (2 more
 * bits) makes cuts rarer, after it a looser one (2 fewer) makes them likelier,
 * which narrows the size distribution around the average.
 */
export const GEAR: Uint32Array = (() => {
  const table = new Uint32Array(256)
  const index = Buffer.alloc(4)
  for (let i = 0; i < 256; i++) {
    index.writeUInt32BE(i)
    table[i] = createHash('sha256').update(GEAR_SEED).update(index).digest().readUInt32BE(0)
  }
  return table
})()

/**
 * A gear table keyed by a secret (restic and borg key their chunkers the same
 * way): entry i is bytes 4i..4i+3 (big-endian) of
 * HKDF-SHA256(key, empty salt, info GEAR_KEYED_INFO, 1024 bytes). Without
 * the key, chunk boundaries (and so the sizes of a known file's chunks)
 * cannot be predicted.
 */
export function keyedGear (key: Uint8Array): Uint32Array {
  if (key.byteLength < 16) throw new InvalidChunkerParamsError(`a gear key is at least 16 bytes, got ${key.byteLength}`)
  const bytes = Buffer.from(hkdfSync('sha256', key, new Uint8Array(0), GEAR_KEYED_INFO, 1024))
  const table = new Uint32Array(256)
  for (let i = 0; i < 256; i++) table[i] = bytes.readUInt32BE(4 * i)
  return table
}

/** A mask of `bits` ones in the top bits of a 32-bit word. */
function topMask (bits: number): number {
  return bits >= 32 ? 0xffffffff : ((2 ** bits - 1) * 2 ** (32 - bits)) >>> 0
}

export interface CutParams {
  minSize: number
  avgSize: number
  maxSize: number
}

export interface Masks {
  strict: number
  loose: number
}

export function masksFor (avgSize: number): Masks {
  const bits = Math.round(Math.log2(avgSize))
  return { strict: topMask(bits + 2), loose: topMask(bits - 2) }
}

/**
 * Length of the chunk starting at `start` in `buf[start, end)`, or -1 when
 * more bytes are needed to decide (only if `final` is false). `gear`: the
 * public table GEAR, or a keyed one (keyedGear).
 */
export function cutPoint (buf: Uint8Array, start: number, end: number, final: boolean, p: CutParams, m: Masks, gear: Uint32Array = GEAR): number {
  const available = end - start
  if (available <= p.minSize) return final ? available : -1
  const limit = Math.min(available, p.maxSize)
  const normal = Math.min(limit, p.avgSize)
  let h = 0
  let i = p.minSize
  // the hash needs 32 bytes of history: start it that far before the minimum
  for (let j = Math.max(0, i - 32); j < i; j++) h = ((h << 1) + gear[buf[start + j]]) >>> 0
  const strict = m.strict
  const loose = m.loose
  for (; i < normal; i++) {
    h = ((h << 1) + gear[buf[start + i]]) >>> 0
    if ((h & strict) === 0) return i + 1
  }
  for (; i < limit; i++) {
    h = ((h << 1) + gear[buf[start + i]]) >>> 0
    if ((h & loose) === 0) return i + 1
  }
  if (limit === p.maxSize || final) return limit
  return -1
}
