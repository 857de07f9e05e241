/**
 * /cachecloud/sizes/1.0.0 (docs/formats/protocols.md): how many bytes each
 * block of a version takes as this node would send it over blocks/1.1.0 (its
 * stored, compressed size), 0 for blocks it lacks and holes. `image plan` asks
 * the peers that hold blocks, so it can say what will cross the LAN and the
 * WAN in compressed bytes, not raw ones. One request (a manifest CID, as in
 * the manifest protocol), one response: status, count, count varints.
 */
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { Uint8ArrayList } from 'uint8arraylist'
import type { CID } from '@cachecloud/core'
import { decodeManifestRequest, encodeManifestRequest } from '@cachecloud/transfer'
import { encodeVarint, readVarint } from '@cachecloud/frame'
import { MAX_HAVE_BLOCKS, MAX_HAVE_REQUEST_BYTES, MAX_SIZES_RESPONSE_BYTES, SIZES_PROTOCOL } from './constants.js'
import { InvalidSwarmMessageError } from './errors.js'
import { handleOneShot, requestOneShot } from './one-shot.js'

const STATUS_OK = 0x00
const STATUS_UNKNOWN = 0x01

/** Stored sizes of the version's manifest entries, in order, or undefined when this node does not know the version. */
export type SizesOf = (cid: CID) => Promise<number[] | undefined>

export function encodeSizesResponse (sizes: number[] | undefined): Uint8ArrayList {
  if (sizes === undefined) return new Uint8ArrayList(encodeVarint(1), Uint8Array.of(STATUS_UNKNOWN))
  const parts = [Uint8Array.of(STATUS_OK), encodeVarint(sizes.length), ...sizes.map(encodeVarint)]
  const length = parts.reduce((n, p) => n + p.byteLength, 0)
  return new Uint8ArrayList(encodeVarint(length), ...parts)
}

/** Decodes a sizes response for a manifest of `count` entries; undefined: the peer does not know the version. */
export function decodeSizesResponse (body: Uint8Array, count: number, maxSize: number): number[] | undefined {
  if (body.byteLength === 0) throw new InvalidSwarmMessageError('empty sizes response')
  if (body[0] === STATUS_UNKNOWN && body.byteLength === 1) return undefined
  if (body[0] !== STATUS_OK) throw new InvalidSwarmMessageError(`sizes response: unknown status ${body[0] as number}`)
  const get = (i: number): number => body[i] as number
  let at = 1
  const n = readVarint(get, body.byteLength, at)
  if (n === undefined || n.value !== count) throw new InvalidSwarmMessageError(`sizes response for ${n?.value ?? '?'} blocks, the manifest has ${count}`)
  at = n.next
  const sizes: number[] = []
  for (let i = 0; i < count; i++) {
    const v = readVarint(get, body.byteLength, at)
    if (v === undefined || v.value > maxSize) throw new InvalidSwarmMessageError(`sizes response: bad size of block ${i}`)
    sizes.push(v.value)
    at = v.next
  }
  if (at !== body.byteLength) throw new InvalidSwarmMessageError('sizes response: trailing bytes')
  return sizes
}

export async function handleSizes (libp2p: Libp2p, sizesOf: SizesOf, timeoutMs: number, log?: Logger): Promise<void> {
  await handleOneShot(libp2p, {
    protocol: SIZES_PROTOCOL,
    maxRequestBytes: MAX_HAVE_REQUEST_BYTES,
    maxInboundStreams: 16,
    timeoutMs,
    ...(log !== undefined ? { log } : {}),
    answer: async request => {
      const sizes = await sizesOf(decodeManifestRequest(request))
      return encodeSizesResponse(sizes !== undefined && sizes.length <= MAX_HAVE_BLOCKS ? sizes : undefined)
    }
  })
}

/** Asks `peer` the stored sizes of the version `cid`'s `count` manifest entries, each at most `maxSize`. */
export async function requestSizes (
  libp2p: Libp2p,
  peer: PeerId,
  cid: CID,
  count: number,
  maxSize: number,
  signal: AbortSignal
): Promise<number[] | undefined> {
  const maxResponse = Math.min(MAX_SIZES_RESPONSE_BYTES, 16 + 4 * count)
  return await requestOneShot(
    libp2p,
    peer,
    SIZES_PROTOCOL,
    encodeManifestRequest(cid),
    maxResponse,
    body => decodeSizesResponse(body.subarray(), count, maxSize),
    signal
  )
}
