import type { Socket } from 'node:net'
import { NbdProtocolError } from './errors.js'

/** Exact-length reads from a socket, with the socket's own backpressure (it is paused while nobody reads). */
export class SocketReader {
  private readonly chunks: Buffer[] = []
  private buffered = 0
  private readonly source: AsyncIterator<Buffer>

  constructor (socket: Socket) {
    this.source = (socket as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  }

  /** The next `n` bytes; undefined at a clean end of stream before any of them, NbdProtocolError mid-message. */
  async read (n: number): Promise<Buffer | undefined> {
    while (this.buffered < n) {
      const next = await this.source.next()
      if (next.done === true) {
        if (this.buffered === 0) return undefined
        throw new NbdProtocolError(`connection closed in the middle of a ${n}-byte message`)
      }
      this.chunks.push(next.value)
      this.buffered += next.value.byteLength
    }
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks)
    this.chunks.length = 0
    const out = all.subarray(0, n)
    const rest = all.subarray(n)
    if (rest.byteLength > 0) this.chunks.push(rest)
    this.buffered = rest.byteLength
    return out
  }

  /** Like read, but an end of stream is an error too. */
  async readExactly (n: number): Promise<Buffer> {
    const b = await this.read(n)
    if (b === undefined) throw new NbdProtocolError(`connection closed while ${n} bytes were expected`)
    return b
  }

  /** Stops reading (the socket is being closed). */
  async close (): Promise<void> {
    await this.source.return?.()
  }
}
