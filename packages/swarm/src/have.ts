import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { CID } from '@cachecloud/core'
import { decodeManifestRequest, encodeManifestRequest, FrameReader, PeerMisbehavedError } from '@cachecloud/transfer'
import { HAVE_PROTOCOL, MAX_HAVE_REQUEST_BYTES, MAX_HAVE_RESPONSE_BYTES } from './constants.js'
import { decodeHaveResponse, encodeHaveResponse, type HaveAnswer } from './have-wire.js'

/** What this node holds of a version, by manifest CID. */
export type Holdings = (cid: CID, peer: string) => Promise<HaveAnswer>

/** Answers /cachecloud/have/1.1.0: one request (the manifest CID, as in the manifest protocol), one response. */
export async function handleHave (libp2p: Libp2p, holdings: Holdings, timeoutMs: number, log?: Logger): Promise<void> {
  await libp2p.handle(HAVE_PROTOCOL, async (stream: Stream, connection) => {
    const signal = AbortSignal.timeout(timeoutMs)
    const onTimeout = (): void => { stream.abort(new Error('no have request before the timeout')) }
    signal.addEventListener('abort', onTimeout)
    try {
      const body = await new FrameReader(stream, MAX_HAVE_REQUEST_BYTES).next()
      if (body === undefined) throw new Error('stream closed without a request')
      const answer = await holdings(decodeManifestRequest(body), connection.remotePeer.toString())
      if (!stream.send(encodeHaveResponse(answer))) await stream.onDrain()
      await stream.close()
    } catch (err) {
      log?.debug({ peer: connection.remotePeer.toString(), err }, 'reset have stream: %s', (err as Error).message)
      stream.abort(err as Error)
    } finally {
      signal.removeEventListener('abort', onTimeout)
    }
  }, { maxInboundStreams: 64, runOnLimitedConnection: false })
}

/** Asks `peer` what it holds of the version `cid`. */
export async function requestHave (libp2p: Libp2p, peer: PeerId, cid: CID, signal: AbortSignal): Promise<HaveAnswer> {
  const stream = await libp2p.dialProtocol(peer, HAVE_PROTOCOL, { signal })
  const onAbort = (): void => { stream.abort(signal.reason as Error) }
  signal.addEventListener('abort', onAbort)
  try {
    if (!stream.send(encodeManifestRequest(cid))) await stream.onDrain({ signal })
    await stream.close({ signal })
    const body = await new FrameReader(stream, MAX_HAVE_RESPONSE_BYTES).next()
    if (body === undefined) throw new PeerMisbehavedError(peer.toString(), 'closed the have stream without a response')
    try {
      return decodeHaveResponse(body)
    } catch (err) {
      throw new PeerMisbehavedError(peer.toString(), `garbage have response: ${(err as Error).message}`, { cause: err })
    }
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
