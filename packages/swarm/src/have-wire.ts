import { Uint8ArrayList } from 'uint8arraylist'
import { encodeFrame, encodeVarint, readVarint } from '@cachecloud/frame'
import { MAX_HAVE_BLOCKS, MAX_SITE_BYTES } from './constants.js'
import { InvalidSwarmMessageError } from './errors.js'

export const HAVE_NONE = 0x00
export const HAVE_COMPLETE = 0x01
export const HAVE_PARTIAL = 0x02

/**
 * A peer's answer: what it holds of one version, and its site label ('' when it has none).
 * A node still pulling also says which blocks it has requested from other sites and not yet
 * received (`claimed`): its site's other members do not fetch those over the WAN.
 */
export type HaveAnswer =
  | { state: 'none', site: string }
  | { state: 'complete', site: string }
  | { state: 'partial', site: string, count: number, bitmap: Uint8Array, claimed: Uint8Array }

export function encodeHaveResponse (answer: HaveAnswer): Uint8ArrayList {
  const site = new TextEncoder().encode(answer.site)
  if (site.byteLength > MAX_SITE_BYTES) throw new InvalidSwarmMessageError(`site label longer than ${MAX_SITE_BYTES} bytes`)
  const head = [Uint8Array.of(answer.state === 'none' ? HAVE_NONE : answer.state === 'complete' ? HAVE_COMPLETE : HAVE_PARTIAL), encodeVarint(site.byteLength), site]
  if (answer.state !== 'partial') return encodeFrame(...head)
  const size = Math.ceil(answer.count / 8)
  if (answer.bitmap.byteLength !== size || answer.claimed.byteLength !== size) throw new InvalidSwarmMessageError(`bitmaps of ${answer.bitmap.byteLength} and ${answer.claimed.byteLength} bytes for ${answer.count} blocks`)
  return encodeFrame(...head, encodeVarint(answer.count), answer.bitmap, answer.claimed)
}

export function decodeHaveResponse (body: Uint8ArrayList | Uint8Array): HaveAnswer {
  const bytes = body instanceof Uint8Array ? body : body.subarray()
  const get = (i: number): number => bytes[i]
  if (bytes.byteLength < 2) throw new InvalidSwarmMessageError('have response too short')
  const status = bytes[0]
  const siteLen = readVarint(get, bytes.byteLength, 1)
  if (siteLen === undefined || siteLen.value > MAX_SITE_BYTES || siteLen.next + siteLen.value > bytes.byteLength) throw new InvalidSwarmMessageError('bad site label')
  const site = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(siteLen.next, siteLen.next + siteLen.value))
  const rest = siteLen.next + siteLen.value
  if (status === HAVE_NONE || status === HAVE_COMPLETE) {
    if (rest !== bytes.byteLength) throw new InvalidSwarmMessageError('trailing bytes in have response')
    return { state: status === HAVE_NONE ? 'none' : 'complete', site }
  }
  if (status !== HAVE_PARTIAL) throw new InvalidSwarmMessageError(`unknown have status 0x${status.toString(16)}`)
  const count = readVarint(get, bytes.byteLength, rest)
  if (count === undefined || count.value > MAX_HAVE_BLOCKS) throw new InvalidSwarmMessageError('bad block count')
  const size = Math.ceil(count.value / 8)
  if (bytes.byteLength - count.next !== 2 * size) throw new InvalidSwarmMessageError(`${bytes.byteLength - count.next} bytes of bitmaps for ${count.value} blocks (expected 2 x ${size})`)
  return { state: 'partial', site, count: count.value, bitmap: bytes.slice(count.next, count.next + size), claimed: bytes.slice(count.next + size) }
}
