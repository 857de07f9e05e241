import { PnetByteLimitError, PnetCipherError } from './errors.js'

/**
 * Errors that belong to one peer connection or stream: when one escapes to
 * the process (an uncaught exception, an unhandled rejection), the daemon
 * loses that connection and keeps serving. Anything else may have left
 * shared state broken, so the daemon exits.
 */

/** libp2p's errors of one connection or stream (@libp2p/interface, @libp2p/utils, yamux), by their stable names. */
const CONNECTION_ERROR_NAMES = new Set([
  'ConnectionClosedError', 'ConnectionClosingError', 'ConnectionFailedError', 'MuxerClosedError',
  'StreamResetError', 'StreamAbortedError', 'StreamStateError', 'StreamBufferError', 'StreamClosedError',
  'UnexpectedEOFError', 'InvalidFrameError', 'ReceiveWindowExceededError', 'UnrequestedPingError', 'NotStartedError',
  'TooManyOutboundProtocolStreamsError', 'TooManyInboundProtocolStreamsError'
])
/** Socket errors of one TCP connection. */
const SOCKET_ERROR_CODES = new Set(['ECONNRESET', 'EPIPE', 'ECONNABORTED', 'ETIMEDOUT', 'ERR_STREAM_PREMATURE_CLOSE', 'ERR_STREAM_DESTROYED', 'ERR_STREAM_WRITE_AFTER_END'])

/** True when `err` (or an error in its `cause` chain) is attributable to one peer connection. */
export function isConnectionScopedError (err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 8; e = e.cause, depth++) {
    if (CONNECTION_ERROR_NAMES.has(e.name)) return true
    const code = (e as { code?: unknown }).code
    if (e instanceof PnetByteLimitError || e instanceof PnetCipherError) return true // our own failures of one connection
    if (typeof code === 'string' && SOCKET_ERROR_CODES.has(code)) return true
    // noble's stream ciphers (the private network's XSalsa20) fail only on the connection they encrypt
    if (e.message.startsWith('arx: ')) return true
  }
  return false
}
