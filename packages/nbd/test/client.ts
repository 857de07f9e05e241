import { connect, type Socket } from 'node:net'
import { once } from 'node:events'

/**
 * A minimal NBD client for tests that real clients cannot express (qemu refuses to write to a
 * read-only export itself, and never sends malformed requests): fixed newstyle, GO, simple replies.
 */
export class TestNbdClient {
  private buffered = Buffer.alloc(0)
  private waiter: (() => void) | undefined
  private ended = false
  size = 0
  flags = 0
  private handle = 0n

  private constructor (readonly socket: Socket) {
    socket.on('data', (d: Buffer) => { this.buffered = Buffer.concat([this.buffered, d]); this.waiter?.() })
    socket.on('close', () => { this.ended = true; this.waiter?.() })
    socket.on('error', () => {})
  }

  static async connect (port: number, name = ''): Promise<TestNbdClient> {
    const socket = connect(port, '127.0.0.1')
    await once(socket, 'connect')
    const c = new TestNbdClient(socket)
    await c.take(18)
    socket.write(Buffer.from([0, 0, 0, 3]))
    const n = Buffer.from(name)
    const data = Buffer.alloc(4 + n.byteLength + 2)
    data.writeUInt32BE(n.byteLength, 0); n.copy(data, 4)
    c.option(7, data)
    while (true) {
      const h = await c.take(20)
      const type = h.readUInt32BE(12)
      const body = await c.take(h.readUInt32BE(16))
      if (type === 1) break
      if (type >= 0x80000000) throw new Error(`GO refused: ${body.toString()}`)
      if (type === 3 && body.readUInt16BE(0) === 0) { c.size = Number(body.readBigUInt64BE(2)); c.flags = body.readUInt16BE(10) }
    }
    return c
  }

  option (option: number, data: Buffer): void {
    const h = Buffer.alloc(16)
    h.writeBigUInt64BE(0x49484156454f5054n, 0); h.writeUInt32BE(option, 8); h.writeUInt32BE(data.byteLength, 12)
    this.socket.write(Buffer.concat([h, data]))
  }

  async take (n: number): Promise<Buffer> {
    while (this.buffered.byteLength < n) {
      if (this.ended) throw new Error('connection closed')
      await new Promise<void>(resolve => { this.waiter = resolve })
    }
    const out = this.buffered.subarray(0, n)
    this.buffered = this.buffered.subarray(n)
    return out
  }

  /** Sends a request; resolves with the reply's error value and data (for a successful READ). */
  async request (type: number, offset: number, length: number, payload?: Uint8Array, flags = 0): Promise<{ error: number, data?: Buffer }> {
    const h = Buffer.alloc(28)
    h.writeUInt32BE(0x25609513, 0); h.writeUInt16BE(flags, 4); h.writeUInt16BE(type, 6)
    h.writeBigUInt64BE(++this.handle, 8); h.writeBigUInt64BE(BigInt(offset), 16); h.writeUInt32BE(length, 24)
    this.socket.write(payload === undefined ? h : Buffer.concat([h, payload]))
    const r = await this.take(16)
    const error = r.readUInt32BE(4)
    if (r.readBigUInt64BE(8) !== this.handle) throw new Error('reply to another handle')
    const data = error === 0 && type === 0 ? Buffer.from(await this.take(length)) : undefined
    return { error, data }
  }

  get closed (): boolean { return this.ended }

  close (): void { this.socket.destroy() }
}
