import type { AbortOptions, ConnectionProtector, MultiaddrConnection } from '@libp2p/interface'
import { AbstractMultiaddrConnection, byteStream, type MessageStreamInit } from '@libp2p/utils'
import { xsalsa20 } from '@noble/ciphers/salsa.js'
import type { Uint8ArrayList } from 'uint8arraylist'
import { PNET_CIPHER_MAX_BYTES, PNET_MAX_BYTES_PER_DIRECTION } from './constants.js'
import { InvalidNetworkKeyError, PnetByteLimitError, PnetCipherError } from './errors.js'

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
  private left: Uint8Array = new Uint8Array(0)
  /** Bytes this key stream has covered. */
  bytes = 0

  constructor (private readonly key: Uint8Array, private readonly nonce: Uint8Array, private counter = 0) {}

  update (data: Uint8Array): Uint8Array {
    this.bytes += data.byteLength
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

interface PskConnectionInit extends MessageStreamInit {
  maConn: MultiaddrConnection
  psk: Uint8Array
  localNonce: Uint8Array
  remoteNonce: Uint8Array
  maxBytesPerDirection: number
  initialBlock: number
}

/**
 * One protected connection. Nothing here throws into libp2p: a cipher
 * failure, or a direction reaching `maxBytesPerDirection`, aborts this
 * connection (its streams see the error) and leaves the process alone; a
 * throw from sendData would escape libp2p's send path and end the process.
 */
class PskConnection extends AbstractMultiaddrConnection {
  private readonly inbound: XorStream
  private readonly outbound: XorStream
  private readonly maxBytes: number
  private failed = false

  constructor (init: PskConnectionInit) {
    super({ ...init, remoteAddr: init.maConn.remoteAddr, direction: init.maConn.direction })
    const maConn = this.maConn = init.maConn
    this.maxBytes = init.maxBytesPerDirection
    this.inbound = new XorStream(init.psk, init.remoteNonce, init.initialBlock)
    this.outbound = new XorStream(init.psk, init.localNonce, init.initialBlock)
    maConn.addEventListener('message', (evt) => {
      if (this.failed) return
      try {
        const data = evt.data as Uint8Array | Uint8ArrayList
        for (const buf of data instanceof Uint8Array ? [data] : data) this.onData(this.crypt(this.inbound, buf, 'received'))
      } catch (err) {
        this.fail(err)
      }
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
    if (this.failed) return { sentBytes: data.byteLength, canSendMore: false }
    try {
      return { sentBytes: data.byteLength, canSendMore: this.maConn.send(this.crypt(this.outbound, data.subarray(), 'sent')) }
    } catch (err) {
      this.fail(err)
      return { sentBytes: data.byteLength, canSendMore: false }
    }
  }

  /** Applies the key stream, refusing to go past the byte limit (checked before any byte is used). */
  private crypt (stream: XorStream, data: Uint8Array, verb: string): Uint8Array {
    if (stream.bytes + data.byteLength > this.maxBytes) {
      throw new PnetByteLimitError(`private-network connection to ${this.remoteAddr.toString()} ${verb} ${stream.bytes + data.byteLength} bytes, over its limit of ${this.maxBytes} per direction: closed (a new connection starts a new key stream)`)
    }
    try {
      return stream.update(data)
    } catch (err) {
      throw new PnetCipherError(`private-network cipher failed on the connection to ${this.remoteAddr.toString()}: ${(err as Error).message}`, { cause: err })
    }
  }

  /** Aborts this connection once, outside the caller's stack (libp2p's send loop or the socket's message event). */
  private fail (err: unknown): void {
    if (this.failed) return
    this.failed = true
    // ours (limit, cipher), or the socket's own (a send on a closed socket): either way only this connection ends
    const error = err instanceof Error ? err : new PnetCipherError(`private-network connection to ${this.remoteAddr.toString()} failed: ${String(err)}`)
    this.log.error('aborting the connection - %e', error)
    queueMicrotask(() => {
      try { this.abort(error) } catch (abortErr) { this.log.error('abort failed - %e', abortErr); this.maConn.abort(error) }
    })
  }

  sendReset (err: Error): void { this.maConn.abort(err) }
  sendPause (): void { this.maConn.pause() }
  sendResume (): void { this.maConn.resume() }
}

export interface PskProtectorInit {
  /** Bytes a connection may carry in one direction before it is aborted. Default PNET_MAX_BYTES_PER_DIRECTION; at most PNET_CIPHER_MAX_BYTES. */
  maxBytesPerDirection?: number
  /** Tests only: the block counter both key streams start at (both ends must agree), to reach the cipher's own limit cheaply. Default 0. */
  initialBlock?: number
}

/** libp2p private network (pnet 1.0.0 swarm key): both sides exchange 24-byte nonces, then XSalsa20 with the shared key. */
export class PskProtector implements ConnectionProtector {
  private readonly maxBytesPerDirection: number
  private readonly initialBlock: number

  constructor (private readonly psk: Uint8Array, init: PskProtectorInit = {}) {
    if (psk.byteLength !== KEY_LENGTH) throw new InvalidNetworkKeyError(`network key must be ${KEY_LENGTH} bytes, not ${psk.byteLength}`)
    const max = init.maxBytesPerDirection ?? PNET_MAX_BYTES_PER_DIRECTION
    if (!Number.isSafeInteger(max) || max <= 0 || max > PNET_CIPHER_MAX_BYTES) throw new RangeError(`maxBytesPerDirection must be an integer in 1-${PNET_CIPHER_MAX_BYTES}`)
    this.maxBytesPerDirection = max
    this.initialBlock = init.initialBlock ?? 0
  }

  async protect (connection: MultiaddrConnection, options?: AbortOptions): Promise<MultiaddrConnection> {
    const signal = options?.signal ?? AbortSignal.timeout(NONCE_TIMEOUT_MS)
    const localNonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
    const bytes = byteStream(connection)
    const [remote] = await Promise.all([bytes.read({ bytes: NONCE_LENGTH, signal }), bytes.write(localNonce, { signal })])
    return new PskConnection({
      maConn: bytes.unwrap(),
      psk: this.psk,
      localNonce,
      remoteNonce: remote.subarray(),
      maxBytesPerDirection: this.maxBytesPerDirection,
      initialBlock: this.initialBlock,
      log: connection.log.newScope('pnet')
    })
  }
}

/** The keystream on its own, for compatibility tests. */
export function xorStreamForTest (key: Uint8Array, nonce: Uint8Array): { update: (data: Uint8Array) => Uint8Array } {
  return new XorStream(key, nonce)
}
