import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { CID } from '@cachecloud/core'
import { decodeManifestRequest, encodeManifestRequest } from '@cachecloud/transfer'
import { HAVE_PROTOCOL, MAX_HAVE_REQUEST_BYTES, MAX_HAVE_RESPONSE_BYTES } from './constants.js'
import { decodeHaveResponse, encodeHaveResponse, type HaveAnswer } from './have-wire.js'
import { handleOneShot, requestOneShot } from './one-shot.js'

/** What this node holds of a version, by manifest CID. */
export type Holdings = (cid: CID, peer: string) => Promise<HaveAnswer>

/** Answers /cachecloud/have/1.1.0: one request (the manifest CID, as in the manifest protocol), one response. */
export async function handleHave (libp2p: Libp2p, holdings: Holdings, timeoutMs: number, log?: Logger): Promise<void> {
  await handleOneShot(libp2p, {
    protocol: HAVE_PROTOCOL,
    maxRequestBytes: MAX_HAVE_REQUEST_BYTES,
    maxInboundStreams: 64,
    timeoutMs,
    ...(log !== undefined ? { log } : {}),
    answer: async (request, peer) => encodeHaveResponse(await holdings(decodeManifestRequest(request), peer))
  })
}

/** Asks `peer` what it holds of the version `cid`. */
export async function requestHave (libp2p: Libp2p, peer: PeerId, cid: CID, signal: AbortSignal): Promise<HaveAnswer> {
  return await requestOneShot(libp2p, peer, HAVE_PROTOCOL, encodeManifestRequest(cid), MAX_HAVE_RESPONSE_BYTES, decodeHaveResponse, signal)
}
