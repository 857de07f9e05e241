import { Uint8ArrayList } from 'uint8arraylist'
import { MAX_VARINT_BYTES } from './constants.js'
import { FrameTooLargeError, InvalidVarintError, StreamTruncatedError } from './errors.js'

// Framing shared by the three protocols (docs/formats/protocols.md#framing):
// an unsigned LEB128 varint length, then that many bytes of message.

export function varintLength (value: number): number {
  let n = 1
  while (value >= 0x80) { value = Math.floor(value / 128); n++ }
  return n
}

/** Writes `value` (a safe non-negative integer) at `offset`; returns the offset after it. */
export function writeVarint (value: number, target: Uint8Array, offset: number): number {
  while (value >= 0x80) {
    target[offset++] = (value % 128) | 0x80
    value = Math.floor(value / 128)
  }
  target[offset++] = value
  return offset
}

export function encodeVarint (value: number): Uint8Array {
  const out = new Uint8Array(varintLength(value))
  writeVarint(value, out, 0)
  return out
}

/** Reads a varint from a byte source; `undefined` when more bytes are needed. */
export function readVarint (get: (i: number) => number, available: number, offset: number): { value: number, next: number } | undefined {
  let value = 0
  let scale = 1
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (offset + i >= available) return undefined
    const byte = get(offset + i)
    value += (byte & 0x7f) * scale
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) throw new InvalidVarintError('non-minimal varint')
      return { value, next: offset + i + 1 }
    }
    scale *= 128
  }
  throw new InvalidVarintError(`varint longer than ${MAX_VARINT_BYTES} bytes`)
}

/** The length prefix of a frame whose body is `bodyLength` bytes. */
export function frameHeader (bodyLength: number): Uint8Array {
  return encodeVarint(bodyLength)
}

/** One frame: prefix and body, as a list so the body is not copied. */
export function encodeFrame (...body: Uint8Array[]): Uint8ArrayList {
  let length = 0
  for (const part of body) length += part.byteLength
  return new Uint8ArrayList(frameHeader(length), ...body)
}

/**
 * Splits a byte stream into frames of at most `maxFrameBytes`. The length is
 * checked as soon as its prefix arrives, so an oversized frame is rejected
 * before any of it is buffered. Counts every byte read (`bytesRead`).
 */
export class FrameReader {
  bytesRead = 0
  private readonly buffer = new Uint8ArrayList()
  private readonly iterator: AsyncIterator<Uint8Array | Uint8ArrayList>
  private readonly maxFrameBytes: number

  private primed: Promise<IteratorResult<Uint8Array | Uint8ArrayList>> | undefined

  constructor (source: AsyncIterable<Uint8Array | Uint8ArrayList>, maxFrameBytes: number) {
    this.iterator = source[Symbol.asyncIterator]()
    this.maxFrameBytes = maxFrameBytes
    // start the source now: a libp2p stream only queues data for listeners attached when iteration begins
    this.primed = this.iterator.next()
    this.primed.catch(() => {})
  }

  /** The next frame's body, or `undefined` at a clean end of stream. */
  async next (): Promise<Uint8ArrayList | undefined> {
    while (true) {
      const frame = this.parse()
      if (frame !== undefined) return frame
      const pending = this.primed ?? this.iterator.next()
      this.primed = undefined
      const { done, value } = await pending
      if (done === true) {
        if (this.buffer.byteLength > 0) throw new StreamTruncatedError(`stream ended inside a frame (${this.buffer.byteLength} bytes left)`)
        return undefined
      }
      this.bytesRead += value.byteLength
      this.buffer.append(value)
    }
  }

  async * [Symbol.asyncIterator] (): AsyncGenerator<Uint8ArrayList> {
    while (true) {
      const frame = await this.next()
      if (frame === undefined) return
      yield frame
    }
  }

  /** Bytes of complete frames handed out so far (bytes read minus bytes buffered). */
  get consumed (): number {
    return this.bytesRead - this.buffer.byteLength
  }

  /** Stops reading the source. */
  async return (): Promise<void> {
    await this.iterator.return?.()
  }

  private parse (): Uint8ArrayList | undefined {
    const buffer = this.buffer
    if (buffer.byteLength === 0) return undefined
    const prefix = readVarint(i => buffer.get(i), buffer.byteLength, 0)
    if (prefix === undefined) return undefined
    if (prefix.value > this.maxFrameBytes) {
      throw new FrameTooLargeError(`frame of ${prefix.value} bytes exceeds the ${this.maxFrameBytes}-byte limit`)
    }
    const end = prefix.next + prefix.value
    if (buffer.byteLength < end) return undefined
    const body = buffer.sublist(prefix.next, end)
    buffer.consume(end)
    return body
  }
}
