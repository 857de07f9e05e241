/**
 * Dial and open a stream, retrying with backoff what a loaded or
 * rate-limiting peer does to a new connection (reset, refused, closed right
 * after the handshake): when a branch's subscribers start pulling in the same
 * second, a seed may refuse some of them for a moment, and a pull must not
 * give up on the first refusal. What retrying cannot change (the protocol is
 * not spoken, the peer is not the one named, no address is known, the caller
 * gave up) fails at once.
 */
import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { PeerTarget } from './client.js'
import { DIAL_ATTEMPTS, DIAL_BACKOFF_MS } from './constants.js'

/** libp2p error names a retry cannot fix. */
const FINAL_ERRORS = new Set(['UnsupportedProtocolError', 'DialDeniedError', 'InvalidMultiaddrError', 'InvalidPeerIdError', 'NoValidAddressesError', 'UnexpectedPeerError', 'InvalidParametersError'])

export interface OpenedStream { connection: Connection, stream: Stream }

/** A stream of one of `protocols` on a connection to `target`, after up to DIAL_ATTEMPTS tries; the last error if none succeeds. */
export async function openStream (
  libp2p: Libp2p,
  target: PeerTarget,
  protocols: string | string[],
  signal: AbortSignal,
  onRetry?: (err: Error, attempt: number) => void
): Promise<OpenedStream> {
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await libp2p.dial(target, { signal })
      const stream = await connection.newStream(protocols, { signal })
      return { connection, stream }
    } catch (err) {
      if (signal.aborted || attempt >= DIAL_ATTEMPTS || FINAL_ERRORS.has((err as Error).name)) throw err
      onRetry?.(err as Error, attempt)
      await sleep(backoff(attempt), signal)
    }
  }
}

/** DIAL_BACKOFF_MS doubled per attempt, +-25 % so pullers refused together do not come back together. */
function backoff (attempt: number): number {
  return DIAL_BACKOFF_MS * 2 ** (attempt - 1) * (0.75 + Math.random() / 2)
}

/** Waits `ms`, or rejects with the signal's reason as soon as it aborts. */
export async function sleep (ms: number, signal: AbortSignal): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const done = (): void => { signal.removeEventListener('abort', abort); resolve() }
    const timer = setTimeout(done, ms)
    const abort = (): void => { clearTimeout(timer); reject(signal.reason) }
    signal.addEventListener('abort', abort, { once: true })
  })
}
