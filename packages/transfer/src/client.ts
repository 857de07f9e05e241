import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { CID } from '@cachecloud/core'
import { decodeManifestFor } from '@cachecloud/manifest'
import type { ImageManifest } from '@cachecloud/manifest'
import { CATALOG_PROTOCOL, MANIFEST_PROTOCOL, MAX_CATALOG_RESPONSE_BYTES, MAX_MANIFEST_RESPONSE_BYTES } from './constants.js'
import { openStream } from './dial.js'
import { InvalidMessageError, PeerMisbehavedError, VersionUnavailableError } from './errors.js'
import { decodeCatalogResponse, decodeManifestResponse, encodeCatalogRequest, encodeManifestRequest, type RemoteVersion } from './wire.js'
import { FrameReader } from '@cachecloud/frame'
import type { Uint8ArrayList } from 'uint8arraylist'

export type PeerTarget = PeerId | Multiaddr

/** AbortSignal of the caller's signal and a timeout. */
export function withTimeout (timeoutMs: number, signal?: AbortSignal): AbortSignal {
  const timeout = AbortSignal.timeout(timeoutMs)
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout])
}

/** One request frame, one response frame: the catalog and manifest protocols. */
async function request (
  libp2p: Libp2p,
  target: PeerTarget,
  protocol: string,
  frame: Uint8ArrayList,
  maxResponse: number,
  signal: AbortSignal
): Promise<{ peer: string, body: Uint8ArrayList }> {
  const { connection, stream } = await openStream(libp2p, target, protocol, signal)
  const peer = connection.remotePeer.toString()
  const onAbort = (): void => { stream.abort(signal.reason) }
  signal.addEventListener('abort', onAbort)
  try {
    if (!stream.send(frame)) await stream.onDrain({ signal })
    await stream.close({ signal })
    const reader = new FrameReader(stream, maxResponse)
    let body: Uint8ArrayList | undefined
    try {
      body = await reader.next()
      if (body === undefined) throw new InvalidMessageError('stream closed without a response')
      if (await reader.next() !== undefined) throw new InvalidMessageError('more than one response')
    } catch (err) {
      if (signal.aborted) throw err
      const misbehaved = new PeerMisbehavedError(peer, `bad ${protocol} response: ${(err as Error).message}`, { cause: err })
      stream.abort(misbehaved)
      throw misbehaved
    }
    return { peer, body }
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** The versions a peer's catalog lists (optionally of one image), and the peer's id. */
export async function requestCatalog (
  libp2p: Libp2p,
  target: PeerTarget,
  signal: AbortSignal,
  name?: string
): Promise<{ peer: string, versions: RemoteVersion[] }> {
  const { peer, body } = await request(libp2p, target, CATALOG_PROTOCOL, encodeCatalogRequest(name), MAX_CATALOG_RESPONSE_BYTES, signal)
  try {
    return { peer, versions: decodeCatalogResponse(body) }
  } catch (err) {
    throw new PeerMisbehavedError(peer, `garbage catalog response: ${(err as Error).message}`, { cause: err })
  }
}

/** A manifest by CID: the bytes must hash to `cid` and decode (decodeManifestFor); the signature is not checked here. */
export async function requestManifest (
  libp2p: Libp2p,
  target: PeerTarget,
  cid: CID,
  signal: AbortSignal
): Promise<{ peer: string, manifest: ImageManifest, bytes: Uint8Array }> {
  const { peer, body } = await request(libp2p, target, MANIFEST_PROTOCOL, encodeManifestRequest(cid), MAX_MANIFEST_RESPONSE_BYTES, signal)
  let bytes: Uint8Array | undefined
  try {
    bytes = decodeManifestResponse(body)
  } catch (err) {
    throw new PeerMisbehavedError(peer, `garbage manifest response: ${(err as Error).message}`, { cause: err })
  }
  if (bytes === undefined) throw new VersionUnavailableError(`peer ${peer} does not hold manifest ${cid.toString()}`)
  try {
    return { peer, manifest: decodeManifestFor(cid, bytes), bytes }
  } catch (err) {
    throw new PeerMisbehavedError(peer, `sent a manifest that is not ${cid.toString()}: ${(err as Error).message}`, { cause: err })
  }
}
