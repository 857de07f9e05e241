/**
 * @packageDocumentation
 *
 * Content-defined chunking: FastCDC with normalized chunking over a 32-bit
 * gear hash. Boundaries depend only on the bytes around them, so an insertion
 * near the start of a file changes the chunks next to it and no later one.
 * Used for personal files (docs/formats/personal.md#chunking); images keep
 * fixed, aligned blocks.
 *
 * @example
 * ```ts
 * const chunker = createChunker()                     // 8 / 32 / 128 KiB
 * for await (const chunk of chunker.chunkFile('/home/u/doc.pdf')) store(chunk)
 * const pieces = chunker.split(bytes)                 // whole buffer at once
 * const mine = createChunker({ gearKey })             // boundaries keyed by a secret
 * ```
 */
import { open } from 'node:fs/promises'
import { CHUNKER_ID, CHUNKER_KEYED_ID, DEFAULT_AVG_SIZE, DEFAULT_MAX_SIZE, DEFAULT_MIN_SIZE, DEFAULT_READ_SIZE } from './constants.js'
import { InvalidChunkerParamsError } from './errors.js'
import { cutPoint, GEAR, keyedGear, masksFor, type CutParams } from './fastcdc.js'

export interface ChunkerInit {
  /** Default DEFAULT_MIN_SIZE. */
  minSize?: number
  /** A power of two. Default DEFAULT_AVG_SIZE. */
  avgSize?: number
  /** Default DEFAULT_MAX_SIZE. */
  maxSize?: number
  /** Bytes read at a time by chunkFile. Default DEFAULT_READ_SIZE. */
  readSize?: number
  /** A secret keying the gear table (keyedGear): each key cuts the same bytes at other boundaries. Default: the public table GEAR. */
  gearKey?: Uint8Array
}

export interface Chunker {
  /** CHUNKER_ID, or CHUNKER_KEYED_ID with a gear key. */
  readonly id: string
  readonly minSize: number
  readonly avgSize: number
  readonly maxSize: number
  /** Splits a whole buffer; the chunks are views of it. */
  split(bytes: Uint8Array): Uint8Array[]
  /** Chunks a byte stream, holding at most one read piece plus one chunk. */
  chunks(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array>
  /** Chunks a file read in `readSize` pieces. */
  chunkFile(path: string): AsyncGenerator<Uint8Array>
}

export function createChunker (init: ChunkerInit = {}): Chunker {
  const p: CutParams = {
    minSize: init.minSize ?? DEFAULT_MIN_SIZE,
    avgSize: init.avgSize ?? DEFAULT_AVG_SIZE,
    maxSize: init.maxSize ?? DEFAULT_MAX_SIZE
  }
  if (!(p.minSize >= 64 && p.minSize < p.avgSize && p.avgSize < p.maxSize) || 2 ** Math.round(Math.log2(p.avgSize)) !== p.avgSize) {
    throw new InvalidChunkerParamsError(`need 64 <= min < avg < max and avg a power of two, got ${p.minSize}/${p.avgSize}/${p.maxSize}`)
  }
  const masks = masksFor(p.avgSize)
  const readSize = Math.max(init.readSize ?? DEFAULT_READ_SIZE, p.maxSize)
  const gear = init.gearKey === undefined ? GEAR : keyedGear(init.gearKey)
  const id = init.gearKey === undefined ? CHUNKER_ID : CHUNKER_KEYED_ID

  function split (bytes: Uint8Array): Uint8Array[] {
    const out: Uint8Array[] = []
    let start = 0
    while (start < bytes.byteLength) {
      const n = cutPoint(bytes, start, bytes.byteLength, true, p, masks, gear)
      out.push(bytes.subarray(start, start + n))
      start += n
    }
    return out
  }

  async function * chunks (source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    let carry: Uint8Array = new Uint8Array(0)
    for await (const piece of source) {
      let buf: Uint8Array
      if (carry.byteLength === 0) buf = piece
      else { buf = new Uint8Array(carry.byteLength + piece.byteLength); buf.set(carry); buf.set(piece, carry.byteLength) }
      let start = 0
      while (true) {
        const n = cutPoint(buf, start, buf.byteLength, false, p, masks, gear)
        if (n < 0) break
        yield buf.subarray(start, start + n)
        start += n
      }
      carry = buf.slice(start)
    }
    let start = 0
    while (start < carry.byteLength) {
      const n = cutPoint(carry, start, carry.byteLength, true, p, masks, gear)
      yield carry.subarray(start, start + n)
      start += n
    }
  }

  async function * readFile (path: string): AsyncGenerator<Uint8Array> {
    const handle = await open(path, 'r')
    try {
      while (true) {
        const buf = new Uint8Array(readSize)
        const { bytesRead } = await handle.read(buf, 0, readSize, null)
        if (bytesRead === 0) return
        yield buf.subarray(0, bytesRead)
      }
    } finally {
      await handle.close()
    }
  }

  return { ...p, id, split, chunks, chunkFile: async function * (path: string) { yield * chunks(readFile(path)) } }
}

export * from './constants.js'
export * from './errors.js'
export { GEAR, keyedGear } from './fastcdc.js'
