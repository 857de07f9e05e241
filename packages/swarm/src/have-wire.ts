import { Uint8ArrayList } from 'uint8arraylist'
import { encodeFrame, encodeVarint, readVarint } from '@cachecloud/transfer'
import { MAX_HAVE_BLOCKS, MAX_SITE_BYTES } from './constants.js'
import { InvalidSwarmMessageError } from './errors.js'

export const HAVE_NONE = 0x00
export const HAVE_COMPLETE = 0x01
export const HAVE_PARTIAL = 0x02

/** A peer's answer: what it holds of one version, and its site label ('' when it has none). */
export type HaveAnswer =
  | { state: 'none', site: string }
  | { state: 'complete', site: string }
  | { state: 'partial', site: string, count: number, bitmap: Uint8Array }

export function encodeHaveResponse (answer: HaveAnswer): Uint8ArrayList {
  const site = new TextEncoder().encode(answer.site)
  if (site.byteLength > MAX_SITE_BYTES) throw new InvalidSwarmMessageError(`site label longer than ${MAX_SITE_BYTES} bytes`)
  const head = [Uint8Array.of(answer.state === 'none' ? HAVE_NONE : answer.state === 'complete' ? HAVE_COMPLETE : HAVE_PARTIAL), encodeVarint(site.byteLength), site]
  if (answer.state !== 'partial') return encodeFrame(...head)
  return encodeFrame(...head, encodeVarint(answer.count), answer.bitmap)
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
  const bitmap = bytes.slice(count.next)
  if (bitmap.byteLength !== Math.ceil(count.value / 8)) throw new InvalidSwarmMessageError(`bitmap of ${bitmap.byteLength} bytes for ${count.value} blocks`)
  return { state: 'partial', site, count: count.value, bitmap }
}
