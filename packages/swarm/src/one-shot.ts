/**
 * The one-request, one-response stream both small swarm protocols use (have,
 * sizes): the answering side reads one bounded request within the timeout and
 * answers it; any failure resets that stream only. The asking side sends the
 * request, closes its side and reads one bounded response.
 */
import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Uint8ArrayList } from 'uint8arraylist'
import { PeerMisbehavedError } from '@cachecloud/transfer'
import { FrameReader } from '@cachecloud/frame'

export interface OneShotHandler {
  protocol: string
  maxRequestBytes: number
  maxInboundStreams: number
  timeoutMs: number
  log?: Logger
  /** The response frame to a request body from `peer`. */
  answer: (request: Uint8ArrayList, peer: string) => Promise<Uint8ArrayList>
}

export async function handleOneShot (libp2p: Libp2p, init: OneShotHandler): Promise<void> {
  await libp2p.handle(init.protocol, async (stream: Stream, connection) => {
    const signal = AbortSignal.timeout(init.timeoutMs)
    const onTimeout = (): void => { stream.abort(new Error(`no ${init.protocol} request before the timeout`)) }
    signal.addEventListener('abort', onTimeout)
    try {
      const body = await new FrameReader(stream, init.maxRequestBytes).next()
      if (body === undefined) throw new Error('stream closed without a request')
      if (!stream.send(await init.answer(body, connection.remotePeer.toString()))) await stream.onDrain()
      await stream.close()
    } catch (err) {
      init.log?.debug({ peer: connection.remotePeer.toString(), err }, 'reset %s stream: %s', init.protocol, (err as Error).message)
      stream.abort(err as Error)
    } finally {
      signal.removeEventListener('abort', onTimeout)
    }
  }, { maxInboundStreams: init.maxInboundStreams, runOnLimitedConnection: false })
}

/** Sends `request` to `peer` on `protocol` and decodes its one response with `decode` (a decoding failure is the peer's misbehaviour). */
export async function requestOneShot<T> (
  libp2p: Libp2p, peer: PeerId, protocol: string, request: Uint8ArrayList, maxResponseBytes: number,
  decode: (body: Uint8ArrayList) => T, signal: AbortSignal
): Promise<T> {
  const stream = await libp2p.dialProtocol(peer, protocol, { signal })
  const onAbort = (): void => { stream.abort(signal.reason as Error) }
  signal.addEventListener('abort', onAbort)
  try {
    if (!stream.send(request)) await stream.onDrain({ signal })
    await stream.close({ signal })
    const body = await new FrameReader(stream, maxResponseBytes).next()
    if (body === undefined) throw new PeerMisbehavedError(peer.toString(), `closed the ${protocol} stream without a response`)
    try {
      return decode(body)
    } catch (err) {
      throw new PeerMisbehavedError(peer.toString(), `garbage ${protocol} response: ${(err as Error).message}`, { cause: err })
    }
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
