import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from '@cachecloud/core'
import { CID as CIDClass } from 'multiformats/cid'
import { InvalidPersonalFormatError } from './errors.js'

// Checked decoding of dag-cbor values (directory blocks, records): every
// failure is an InvalidPersonalFormatError naming what was wrong.

export type Obj = Record<string, unknown>
export const fail = (what: string): never => { throw new InvalidPersonalFormatError(what) }
export const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array)
export const cid = (v: unknown, what: string): CID => CIDClass.asCID(v) ?? fail(`${what}: not a CID`)
export const int = (v: unknown, what: string): number => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) ? v : fail(`${what}: not a non-negative integer`)
export const str = (v: unknown, what: string): string => typeof v === 'string' ? v : fail(`${what}: not a string`)
export const bytes = (v: unknown, what: string): Uint8Array => v instanceof Uint8Array ? v : fail(`${what}: not bytes`)

export function decodeCbor (data: Uint8Array, what: string): unknown {
  try { return dagCbor.decode(data) } catch (err) { throw new InvalidPersonalFormatError(`${what}: not dag-cbor`, { cause: err }) }
}
