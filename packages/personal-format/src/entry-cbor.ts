import * as dagCbor from '@ipld/dag-cbor'

// dag-cbor of one directory entry and of a directory block (a flat map of short ASCII keys to strings,
// safe integers and bytes), written directly: the same bytes as
// @ipld/dag-cbor's encode (keys length-first then bytewise, shortest integer
// heads, definite lengths), about ten times faster, which a scan pays once
// per file and per directory block. Anything else goes to @ipld/dag-cbor itself.

type Flat = Record<string, string | number | Uint8Array>

const MAJOR = { uint: 0, negint: 1, bytes: 2, text: 3, array: 4, map: 5 } as const

function headSize (n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9
}

function writeHead (out: Buffer, at: number, major: number, n: number): number {
  const m = major << 5
  if (n < 24) { out[at] = m | n; return at + 1 }
  if (n < 0x100) { out[at] = m | 24; out[at + 1] = n; return at + 2 }
  if (n < 0x10000) { out[at] = m | 25; out.writeUInt16BE(n, at + 1); return at + 3 }
  if (n < 0x100000000) { out[at] = m | 26; out.writeUInt32BE(n, at + 1); return at + 5 }
  out[at] = m | 27
  out.writeUInt32BE(Math.floor(n / 0x100000000), at + 1)
  out.writeUInt32BE(n >>> 0, at + 5)
  return at + 9
}

/** Names outside the basic plane (and lone surrogates) are left to @ipld/dag-cbor. */
const SURROGATE = /[\uD800-\uDFFF]/

/** A Buffer's bytes as a plain Uint8Array (no copy), as @ipld/dag-cbor returns them: callers compare and store them as such. */
const plain = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength)

const ascii = (s: string): boolean => { for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false; return true }

/** dag-cbor of a flat map (string, safe-integer and byte values; ASCII keys); undefined when it is not one. */
export function encodeFlatMap (obj: Flat): Uint8Array | undefined {
  const keys = Object.keys(obj)
  for (const k of keys) if (!ascii(k)) return undefined
  // dag-cbor's key order: shorter first, then bytewise (ASCII: code units)
  keys.sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0))
  let size = headSize(keys.length)
  const lengths: number[] = []
  for (const k of keys) {
    size += headSize(k.length) + k.length
    const v = obj[k]
    if (typeof v === 'string') {
      if (SURROGATE.test(v)) return undefined // (a lone one: left to dag-cbor's own handling)
      const n = Buffer.byteLength(v, 'utf8')
      lengths.push(n); size += headSize(n) + n
    } else if (typeof v === 'number') {
      if (!Number.isSafeInteger(v)) return undefined
      lengths.push(0); size += headSize(v >= 0 ? v : -1 - v)
    } else if (v instanceof Uint8Array) {
      lengths.push(v.byteLength); size += headSize(v.byteLength) + v.byteLength
    } else {
      return undefined
    }
  }
  const out = Buffer.allocUnsafe(size)
  let at = writeHead(out, 0, MAJOR.map, keys.length)
  for (const [i, k] of keys.entries()) {
    at = writeHead(out, at, MAJOR.text, k.length)
    at += out.write(k, at, 'latin1')
    const v = obj[k]
    if (typeof v === 'string') {
      at = writeHead(out, at, MAJOR.text, lengths[i])
      at += out.write(v, at, 'utf8')
    } else if (typeof v === 'number') {
      at = v >= 0 ? writeHead(out, at, MAJOR.uint, v) : writeHead(out, at, MAJOR.negint, -1 - v)
    } else {
      at = writeHead(out, at, MAJOR.bytes, v.byteLength)
      out.set(v, at); at += v.byteLength
    }
  }
  return plain(out)
}

/** CBOR tag 42 (a CID), as dag-cbor writes it: 0xd8 0x2a, then bytes of 0x00 || the CID's bytes. */
const CID_TAG = Uint8Array.of(0xd8, 0x2a)

/**
 * dag-cbor of a directory block { e: sealed entries, l: links, s: sealed header } (tree.ts),
 * written directly: the same bytes as @ipld/dag-cbor's encode.
 */
export function encodeDirBlockCbor (links: Array<{ bytes: Uint8Array }>, entries: Uint8Array[], sealed: Uint8Array): Uint8Array {
  let size = 1 + 2 + headSize(entries.length) + 2 + headSize(links.length) + 2 + headSize(sealed.byteLength) + sealed.byteLength
  for (const e of entries) size += headSize(e.byteLength) + e.byteLength
  for (const l of links) size += 2 + headSize(l.bytes.byteLength + 1) + 1 + l.bytes.byteLength
  const out = Buffer.allocUnsafe(size)
  let at = writeHead(out, 0, MAJOR.map, 3)
  const key = (k: string): void => { at = writeHead(out, at, MAJOR.text, 1); out[at++] = k.charCodeAt(0) }
  const bytes = (b: Uint8Array): void => { at = writeHead(out, at, MAJOR.bytes, b.byteLength); out.set(b, at); at += b.byteLength }
  key('e')
  at = writeHead(out, at, MAJOR.array, entries.length)
  for (const e of entries) bytes(e)
  key('l')
  at = writeHead(out, at, MAJOR.array, links.length)
  for (const l of links) {
    out.set(CID_TAG, at); at += 2
    at = writeHead(out, at, MAJOR.bytes, l.bytes.byteLength + 1)
    out[at++] = 0
    out.set(l.bytes, at); at += l.bytes.byteLength
  }
  key('s')
  bytes(sealed)
  if (at !== size) throw new Error(`directory block encoding wrote ${at} of ${size} bytes`)
  return plain(out)
}

/** dag-cbor of `obj`: written directly when it is a flat map, else by @ipld/dag-cbor. */
export function encodeEntryCbor (obj: Record<string, unknown>): Uint8Array {
  return encodeFlatMap(obj as Flat) ?? dagCbor.encode(obj)
}
