import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from '@cachecloud/core'
import { encodeFrame } from '@cachecloud/frame'
import { CID as CIDClass } from 'multiformats/cid'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MAX_WANTS } from './constants.js'
import { ProtocolError } from './errors.js'

// Messages of /cachecloud/personal-read/1.0.0 (docs/formats/personal.md#read-protocol),
// framed like the replication protocol: an unsigned LEB128 length, then a
// dag-cbor map whose `t` names the message.

/** Why a store refuses a read. */
export type ReadRefusalReason = 'node-not-enrolled' | 'user-not-enrolled' | 'not-found' | 'invalid'

export type ReadMessage =
  | { t: 'heads', user: string, atMs: number | null }
  | { t: 'snapshots', records: Uint8Array[] }
  | { t: 'get', cids: CID[] }
  | { t: 'blocks', blocks: Array<[CID, Uint8Array]>, last: boolean }
  | { t: 'refused', reason: ReadRefusalReason, message: string }

export function encodeReadMessage (m: ReadMessage): Uint8ArrayList {
  let body: Record<string, unknown>
  switch (m.t) {
    case 'heads': body = { t: 'heads', u: m.user, a: m.atMs }; break
    case 'snapshots': body = { t: 'snapshots', r: m.records }; break
    case 'get': body = { t: 'get', c: m.cids }; break
    case 'blocks': body = { t: 'blocks', b: m.blocks, e: m.last }; break
    case 'refused': body = { t: 'refused', r: m.reason, m: m.message }; break
  }
  return encodeFrame(dagCbor.encode(body))
}

const fail = (why: string): never => { throw new ProtocolError(why) }
const asCid = (v: unknown): CID => CIDClass.asCID(v) ?? fail('not a CID')

export function decodeReadMessage (frame: Uint8ArrayList | Uint8Array): ReadMessage {
  let v: unknown
  try { v = dagCbor.decode(frame instanceof Uint8Array ? frame : frame.subarray()) } catch (err) { throw new ProtocolError('message is not dag-cbor', { cause: err }) }
  if (typeof v !== 'object' || v === null) return fail('message is not a map')
  const o = v as Record<string, unknown>
  switch (o.t) {
    case 'heads':
      if (typeof o.u !== 'string' || (o.a !== null && (typeof o.a !== 'number' || !Number.isSafeInteger(o.a)))) return fail('heads: shape')
      return { t: 'heads', user: o.u, atMs: o.a }
    case 'snapshots':
      if (!Array.isArray(o.r) || !(o.r as unknown[]).every(r => r instanceof Uint8Array)) return fail('snapshots: shape')
      return { t: 'snapshots', records: o.r as Uint8Array[] }
    case 'get':
      if (!Array.isArray(o.c) || o.c.length === 0 || o.c.length > MAX_WANTS) return fail('get: 1-1024 CIDs')
      return { t: 'get', cids: (o.c as unknown[]).map(asCid) }
    case 'blocks': {
      if (!Array.isArray(o.b) || typeof o.e !== 'boolean') return fail('blocks: shape')
      const blocks = (o.b as unknown[]).map((pair): [CID, Uint8Array] => {
        if (!Array.isArray(pair) || pair.length !== 2 || !(pair[1] instanceof Uint8Array)) return fail('blocks: pair')
        return [asCid(pair[0]), pair[1]]
      })
      return { t: 'blocks', blocks, last: o.e }
    }
    case 'refused':
      if (typeof o.r !== 'string' || typeof o.m !== 'string') return fail('refused: shape')
      return { t: 'refused', reason: o.r as ReadRefusalReason, message: o.m }
    default:
      return fail(`unknown message ${JSON.stringify(o.t)}`)
  }
}
