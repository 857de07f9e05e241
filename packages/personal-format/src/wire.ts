import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from '@cachecloud/core'
import { encodeFrame } from '@cachecloud/frame'
import { CID as CIDClass } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MAX_WANTS } from './constants.js'
import { deltaBody, parseDeltaBody, type DirDelta } from './delta.js'
import { ProtocolError } from './errors.js'

// Messages of /cachecloud/personal/1.1.0 (docs/formats/personal.md#protocol):
// each is one frame, an unsigned LEB128 length then a dag-cbor map whose `t`
// names the message.

export { FrameReader } from '@cachecloud/frame'

/** Why a store refuses an offer. */
export type RefusalReason = 'node-not-enrolled' | 'user-not-enrolled' | 'node-mismatch' | 'invalid'

export type Message =
  | { t: 'offer', record: Uint8Array }
  /** `whole`: wanted blocks that must not come as a delta (the store lacks their base). */
  | { t: 'want', cids: CID[], whole?: CID[] }
  /** The wanted blocks in the WANT's order, without their CIDs; a directory block may come as a delta of a block the store holds (protocol 1.1). */
  | { t: 'blocks', blocks: Array<Uint8Array | DirDelta>, last: boolean }
  | { t: 'done', status: 'committed' | 'present', files: number }
  | { t: 'refused', reason: RefusalReason, message: string }

export function encodeMessage (m: Message): Uint8ArrayList {
  let body: Record<string, unknown>
  switch (m.t) {
    case 'offer': body = { t: 'offer', r: m.record }; break
    case 'want': body = { t: 'want', c: m.cids, ...(m.whole === undefined || m.whole.length === 0 ? {} : { f: m.whole }) }; break
    case 'blocks': body = { t: 'blocks', b: m.blocks.map(v => v instanceof Uint8Array ? v : deltaBody(v)), e: m.last }; break
    case 'done': body = { t: 'done', s: m.status, n: m.files }; break
    case 'refused': body = { t: 'refused', r: m.reason, m: m.message }; break
  }
  return encodeFrame(dagCbor.encode(body))
}

const fail = (why: string): never => { throw new ProtocolError(why) }
const asCid = (v: unknown): CID => CIDClass.asCID(v) ?? fail('not a CID')

export function decodeMessage (frame: Uint8ArrayList | Uint8Array): Message {
  let v: unknown
  try { v = dagCbor.decode(frame instanceof Uint8Array ? frame : frame.subarray()) } catch (err) { throw new ProtocolError('message is not dag-cbor', { cause: err }) }
  if (typeof v !== 'object' || v === null) return fail('message is not a map')
  const o = v as Record<string, unknown>
  switch (o.t) {
    case 'offer':
      return { t: 'offer', record: o.r instanceof Uint8Array ? o.r : fail('offer: record') }
    case 'want': {
      if (!Array.isArray(o.c) || o.c.length === 0 || o.c.length > MAX_WANTS) return fail('want: 1-1024 CIDs')
      if (o.f !== undefined && !Array.isArray(o.f)) return fail('want: whole is not a list')
      return { t: 'want', cids: (o.c as unknown[]).map(asCid), ...(o.f === undefined ? {} : { whole: (o.f as unknown[]).map(asCid) }) }
    }
    case 'blocks': {
      if (!Array.isArray(o.b) || typeof o.e !== 'boolean') return fail('blocks: shape')
      const blocks = (o.b as unknown[]).map((v): Uint8Array | DirDelta => v instanceof Uint8Array ? v : parseDeltaBody(v))
      return { t: 'blocks', blocks, last: o.e }
    }
    case 'done':
      if ((o.s !== 'committed' && o.s !== 'present') || typeof o.n !== 'number') return fail('done: shape')
      return { t: 'done', status: o.s, files: o.n }
    case 'refused':
      if (typeof o.r !== 'string' || typeof o.m !== 'string') return fail('refused: shape')
      return { t: 'refused', reason: o.r as RefusalReason, message: o.m }
    default:
      return fail(`unknown message ${JSON.stringify(o.t)}`)
  }
}
