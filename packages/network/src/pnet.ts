import type { AbortOptions, ConnectionProtector, MultiaddrConnection } from '@libp2p/interface'
import { AbstractMultiaddrConnection, byteStream, type MessageStreamInit } from '@libp2p/utils'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import type { Uint8ArrayList } from 'uint8arraylist'

const NONCE_LENGTH = 24
const KEY_LENGTH = 32
const NONCE_TIMEOUT_MS = 5_000

/**
 * XSalsa20 keystream applied to a byte stream in pieces of any length. Same
 * cipher and framing as @libp2p/pnet (wire-compatible with it), but pure
 * JavaScript: @libp2p/pnet's WebAssembly xsalsa20 keeps stale views of a
 * shared memory once two connections are open and grows it on every write
 * until the process dies ("WebAssembly.Memory.grow(): Maximum memory size
 * exceeded"), which a swarm of connections hits within seconds of traffic.
 */
class XorStream {
  private counter = 0
  private left: Uint8Array = new Uint8Array(0)

  constructor (private readonly key: Uint8Array, private readonly nonce: Uint8Array) {}

  update (data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.byteLength)
    let off = Math.min(this.left.byteLength, data.byteLength)
    for (let i = 0; i < off; i++) out[i] = data[i] ^ this.left[i]
    this.left = this.left.subarray(off)
    const whole = (data.byteLength - off) & ~63
    if (whole > 0) {
      xsalsa20(this.key, this.nonce, data.subarray(off, off + whole), out.subarray(off, off + whole), this.counter)
      this.counter += whole / 64
      off += whole
    }
    if (off < data.byteLength) {
      const block = xsalsa20(this.key, this.nonce, new Uint8Array(64), undefined, this.counter++)
      const n = data.byteLength - off
      for (let i = 0; i < n; i++) out[off + i] = data[off + i] ^ block[i]
      this.left = block.subarray(n)
    }
    return out
  }
}

class PskConnection extends AbstractMultiaddrConnection {
  private readonly inbound: XorStream
  private readonly outbound: XorStream

  constructor (init: MessageStreamInit & { maConn: MultiaddrConnection, psk: Uint8Array, localNonce: Uint8Array, remoteNonce: Uint8Array }) {
    super({ ...init, remoteAddr: init.maConn.remoteAddr, direction: init.maConn.direction })
    const maConn = this.maConn = init.maConn
    this.inbound = new XorStream(init.psk, init.remoteNonce)
    this.outbound = new XorStream(init.psk, init.localNonce)
    maConn.addEventListener('message', (evt) => {
      const data = evt.data as Uint8Array | Uint8ArrayList
      if (data instanceof Uint8Array) this.onData(this.inbound.update(data))
      else for (const buf of data) this.onData(this.inbound.update(buf))
    })
    maConn.addEventListener('drain', () => { this.onMuxerDrain() })
    maConn.addEventListener('close', (evt) => {
      if (evt.error != null) {
        if (evt.local === true) this.abort(evt.error)
        else this.onRemoteReset()
      } else this.onTransportClosed()
    })
  }

  private readonly maConn: MultiaddrConnection

  async sendClose (options?: AbortOptions): Promise<void> { await this.maConn.close(options) }
  sendData (data: Uint8ArrayList): { sentBytes: number, canSendMore: boolean } {
    return { sentBytes: data.byteLength, canSendMore: this.maConn.send(this.outbound.update(data.subarray())) }
  }

  sendReset (err: Error): void { this.maConn.abort(err) }
  sendPause (): void { this.maConn.pause() }
  sendResume (): void { this.maConn.resume() }
}

/** libp2p private network (pnet 1.0.0 swarm key): both sides exchange 24-byte nonces, then XSalsa20 with the shared key. */
export class PskProtector implements ConnectionProtector {
  constructor (private readonly psk: Uint8Array) {
    if (psk.byteLength !== KEY_LENGTH) throw new Error('network key must be 32 bytes')
  }

  async protect (connection: MultiaddrConnection, options?: AbortOptions): Promise<MultiaddrConnection> {
    const signal = options?.signal ?? AbortSignal.timeout(NONCE_TIMEOUT_MS)
    const localNonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
    const bytes = byteStream(connection)
    const [remote] = await Promise.all([bytes.read({ bytes: NONCE_LENGTH, signal }), bytes.write(localNonce, { signal })])
    return new PskConnection({ maConn: bytes.unwrap(), psk: this.psk, localNonce, remoteNonce: remote.subarray(), log: connection.log.newScope('pnet') })
  }
}

/** The keystream on its own, for compatibility tests. */
export function xorStreamForTest (key: Uint8Array, nonce: Uint8Array): { update: (data: Uint8Array) => Uint8Array } {
  return new XorStream(key, nonce)
}
