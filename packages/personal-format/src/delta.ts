import * as dagCbor from '@ipld/dag-cbor'
import type { CID } from '@cachecloud/core'
import { CID as CIDClass } from 'multiformats/cid'
import { MAX_BLOCK_ENTRIES, MAX_DIR_BLOCK_BYTES } from './constants.js'
import { ProtocolError } from './errors.js'
import { decodeDirParts, encodeDirParts, type DirBlockParts } from './tree.js'

// A directory block sent as a delta of a block the store already holds
// (docs/formats/personal.md#delta): its link and entry lists as runs copied
// from the base's lists and literal items, plus its new sealed header. The
// store rebuilds the block without any key and checks it against its CID.

/** One list as copy runs `[start, count]` of the base's list and literal items. */
export type ListOps<T> = Array<[number, number] | T>

export interface DirDelta {
  /** The base block (held by the store). */
  base: CID
  l: ListOps<CID>
  e: ListOps<Uint8Array>
  s: Uint8Array
}

function diff<T> (base: T[], next: T[], key: (item: T) => string): ListOps<T> {
  const at = new Map<string, number>()
  base.forEach((item, i) => { if (!at.has(key(item))) at.set(key(item), i) })
  const ops: ListOps<T> = []
  for (let i = 0; i < next.length;) {
    const j = at.get(key(next[i]))
    if (j === undefined) { ops.push(next[i]); i++; continue }
    let n = 1
    while (i + n < next.length && j + n < base.length && key(next[i + n]) === key(base[j + n])) n++
    ops.push([j, n]); i += n
  }
  return ops
}

/** dag-cbor bytes an item adds to a list, at least: its bytes and a header (a CID also its tag and 0x00 prefix). */
const linkBytes = (c: CID): number => c.bytes.byteLength + 5
const entryBytes = (b: Uint8Array): number => b.byteLength + 1

/**
 * Rebuilds one list. Bounded before any copy: the output may hold at most
 * `maxItems` items and `budget.bytes` encoded bytes (the format's largest
 * block), checked per op from prefix sums of the base's item sizes, so a
 * small delta of many long copy runs is refused instead of expanded.
 */
function patch<T> (base: T[], ops: ListOps<T>, isLiteral: (v: unknown) => v is T, size: (item: T) => number, maxItems: number, budget: { bytes: number }): T[] {
  if (ops.length > maxItems) throw new ProtocolError(`delta: ${ops.length} ops, more than a block's ${maxItems} items`)
  const prefix = new Float64Array(base.length + 1)
  for (let i = 0; i < base.length; i++) prefix[i + 1] = prefix[i] + size(base[i])
  const out: T[] = []
  const spend = (items: number, bytes: number): void => {
    budget.bytes -= bytes
    if (out.length + items > maxItems || budget.bytes < 0) throw new ProtocolError(`delta: the rebuilt block would exceed ${maxItems} items or ${MAX_DIR_BLOCK_BYTES} bytes`)
  }
  for (const op of ops) {
    if (isLiteral(op)) { spend(1, size(op)); out.push(op); continue }
    const [start, count] = op
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(count) || start < 0 || count < 1 || start + count > base.length) throw new ProtocolError('delta: copy run outside the base')
    spend(count, prefix[start + count] - prefix[start])
    for (let k = 0; k < count; k++) out.push(base[start + k])
  }
  return out
}

/** A delta turning `baseBytes` into `nextBytes`, or undefined when sending `nextBytes` whole is as small. */
export function encodeDirDelta (base: CID, baseBytes: Uint8Array, nextBytes: Uint8Array): DirDelta | undefined {
  const a = decodeDirParts(baseBytes)
  const b = decodeDirParts(nextBytes)
  const delta: DirDelta = {
    base,
    l: diff(a.l, b.l, c => c.toString()),
    e: diff(a.e, b.e, x => Buffer.from(x).toString('base64')),
    s: b.s
  }
  return dagCbor.encode(deltaBody(delta)).byteLength < nextBytes.byteLength ? delta : undefined
}

/** Rebuilds a block from its base's bytes. The caller checks the result against the wanted CID. */
export function applyDirDelta (baseBytes: Uint8Array, delta: DirDelta): Uint8Array {
  const a = decodeDirParts(baseBytes)
  const budget = { bytes: MAX_DIR_BLOCK_BYTES - delta.s.byteLength }
  const l = patch(a.l, delta.l, (v): v is CID => CIDClass.asCID(v) !== null, linkBytes, MAX_DIR_BLOCK_BYTES, budget)
  const e = patch(a.e, delta.e, (v): v is Uint8Array => v instanceof Uint8Array, entryBytes, MAX_BLOCK_ENTRIES, budget)
  const parts: DirBlockParts = { l, e, s: delta.s }
  return encodeDirParts(parts)
}

/** The wire form of a delta: `{ "b": CID, "l": ops, "e": ops, "s": bytes }`. */
export function deltaBody (d: DirDelta): Record<string, unknown> {
  return { b: d.base, l: d.l, e: d.e, s: d.s }
}

export function parseDeltaBody (v: unknown): DirDelta {
  const fail = (why: string): never => { throw new ProtocolError(`delta: ${why}`) }
  if (typeof v !== 'object' || v === null) return fail('not a map')
  const o = v as Record<string, unknown>
  const base = CIDClass.asCID(o.b) ?? fail('base is not a CID')
  if (!Array.isArray(o.l) || !Array.isArray(o.e) || !(o.s instanceof Uint8Array)) return fail('shape')
  const run = (x: unknown): x is [number, number] => Array.isArray(x) && x.length === 2 && x.every(n => typeof n === 'number')
  const l = (o.l as unknown[]).map(x => run(x) ? x : (CIDClass.asCID(x) ?? fail('link op')))
  const e = (o.e as unknown[]).map(x => run(x) ? x : (x instanceof Uint8Array ? x : fail('entry op')))
  return { base, l, e, s: o.s }
}
