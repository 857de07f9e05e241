import { assertValidLabel, decodeCid, type CID } from '@cachecloud/core'
import { CODEC_RAW, CODEC_ZSTD, type Codec } from '@cachecloud/codec'
import type { Uint8ArrayList } from 'uint8arraylist'
import { MAX_BLOCK_BYTES, MAX_CID_BYTES, MAX_WANTS_PER_REQUEST } from './constants.js'
import { InvalidMessageError } from './errors.js'
import { encodeFrame, readVarint, varintLength, writeVarint } from '@cachecloud/frame'

// Messages of the three protocols, byte by byte in docs/formats/protocols.md.
// Encoders return whole frames (length prefix included); decoders take a frame body.

export const MSG_WANT = 0x01
export const MSG_LIST = 0x01
export const MSG_GET_MANIFEST = 0x01
export const STATUS_OK = 0x00
export const STATUS_NOT_FOUND = 0x01
/** blocks/1.1.0 only: the block follows as one zstd frame. */
export const STATUS_OK_ZSTD = 0x02
const STATE_COMPLETE = 0x00
const STATE_PULLING = 0x01

/** One image version as a peer's catalog lists it. */
export interface RemoteVersion {
  name: string
  version: string
  /** Manifest CID. */
  cid: CID
  state: 'complete' | 'pulling'
  /** Image length in bytes. */
  size: number
  blockSize: number
}

/** A block response: `bytes` is absent when the server does not hold the block; `codec` says how they are encoded. */
export interface BlockResponse {
  cid: CID
  bytes?: Uint8Array
  codec: Codec
}

const encoder = new TextEncoder()
const decoder = new TextDecoder('utf-8', { fatal: true })

/** Sequential reader over a small contiguous message body. */
class BodyReader {
  offset = 0
  constructor (readonly bytes: Uint8Array, readonly what: string) {}

  byte (): number {
    if (this.offset >= this.bytes.byteLength) this.fail('truncated')
    return this.bytes[this.offset++]
  }

  varint (): number {
    const r = readVarint(i => this.bytes[i], this.bytes.byteLength, this.offset)
    if (r === undefined) this.fail('truncated varint')
    this.offset = r.next
    return r.value
  }

  take (length: number): Uint8Array {
    if (this.offset + length > this.bytes.byteLength) this.fail('truncated')
    const out = this.bytes.subarray(this.offset, this.offset + length)
    this.offset += length
    return out
  }

  cid (): CID {
    const length = this.varint()
    if (length === 0 || length > MAX_CID_BYTES) this.fail(`CID of ${length} bytes`)
    return parseCid(this.take(length), this.what)
  }

  label (kind: 'image name' | 'version', length = this.varint()): string {
    if (length > 128) this.fail(`${kind} of ${length} bytes`)
    let text: string
    try {
      text = decoder.decode(this.take(length))
      assertValidLabel(kind, text)
    } catch (err) {
      throw new InvalidMessageError(`${this.what}: invalid ${kind}`, { cause: err })
    }
    return text
  }

  end (): void {
    if (this.offset !== this.bytes.byteLength) this.fail(`${this.bytes.byteLength - this.offset} trailing bytes`)
  }

  fail (why: string): never {
    throw new InvalidMessageError(`${this.what}: ${why}`)
  }
}

function parseCid (bytes: Uint8Array, what: string): CID {
  try {
    const cid = decodeCid(bytes)
    if (cid.bytes.byteLength !== bytes.byteLength) throw new Error('trailing bytes')
    return cid
  } catch (err) {
    throw new InvalidMessageError(`${what}: invalid CID`, { cause: err })
  }
}

/** Serialises fields into one exactly-sized buffer. */
class BodyWriter {
  private readonly parts: Array<number | Uint8Array> = []
  private length = 0
  byte (value: number): this { this.parts.push(-1 - value); this.length += 1; return this }
  varint (value: number): this { this.parts.push(value); this.length += varintLength(value); return this }
  bytes (value: Uint8Array): this { this.varint(value.byteLength); this.parts.push(value); this.length += value.byteLength; return this }
  finish (): Uint8Array {
    const out = new Uint8Array(this.length)
    let offset = 0
    for (const part of this.parts) {
      if (part instanceof Uint8Array) { out.set(part, offset); offset += part.byteLength } else if (part < 0) out[offset++] = -1 - part
      else offset = writeVarint(part, out, offset)
    }
    return out
  }
}

function contiguous (body: Uint8ArrayList | Uint8Array): Uint8Array {
  return body instanceof Uint8Array ? body : body.subarray()
}

// --- /cachecloud/blocks/1.1.0 (and 1.0.0: the same messages without STATUS_OK_ZSTD) ---

export function encodeWant (cids: CID[]): Uint8ArrayList {
  if (cids.length === 0 || cids.length > MAX_WANTS_PER_REQUEST) throw new RangeError(`a WANT carries 1-${MAX_WANTS_PER_REQUEST} CIDs`)
  const w = new BodyWriter().byte(MSG_WANT).varint(cids.length)
  for (const cid of cids) w.bytes(cid.bytes)
  return encodeFrame(w.finish())
}

export function decodeWant (body: Uint8ArrayList | Uint8Array): CID[] {
  const r = new BodyReader(contiguous(body), 'WANT')
  if (r.byte() !== MSG_WANT) r.fail('unknown message type')
  const count = r.varint()
  if (count === 0 || count > MAX_WANTS_PER_REQUEST) r.fail(`${count} CIDs`)
  const cids: CID[] = []
  for (let i = 0; i < count; i++) cids.push(r.cid())
  r.end()
  return cids
}

/** A block response frame; the block itself is not copied. A zstd frame (`codec` CODEC_ZSTD) is for blocks/1.1.0 streams only. */
export function encodeBlockResponse (cid: CID, bytes?: Uint8Array, codec: Codec = CODEC_RAW): Uint8ArrayList {
  const status = bytes === undefined ? STATUS_NOT_FOUND : codec === CODEC_ZSTD ? STATUS_OK_ZSTD : STATUS_OK
  const head = new BodyWriter().byte(status).bytes(cid.bytes).finish()
  return bytes === undefined ? encodeFrame(head) : encodeFrame(head, bytes)
}

/**
 * Decodes a block response; copies the block only when it spans several
 * received chunks, into `target(length)` where given (a buffer the caller
 * reuses) or a new buffer. `encoded`: the stream is blocks/1.1.0, where a
 * block may come as a zstd frame (decoded and checked by the receiver's
 * store, bounded by the block's length from the manifest).
 */
export function decodeBlockResponse (body: Uint8ArrayList, encoded = false, target?: (length: number) => Uint8Array): BlockResponse {
  const what = 'block response'
  const length = body.byteLength
  if (length < 2) throw new InvalidMessageError(`${what}: truncated`)
  const status = body.get(0)
  if (status !== STATUS_OK && status !== STATUS_NOT_FOUND && !(encoded && status === STATUS_OK_ZSTD)) throw new InvalidMessageError(`${what}: unknown status ${status}`)
  const prefix = readVarint(i => body.get(i), length, 1)
  if (prefix === undefined) throw new InvalidMessageError(`${what}: truncated varint`)
  const cidEnd = prefix.next + prefix.value
  if (prefix.value === 0 || prefix.value > MAX_CID_BYTES || cidEnd > length) throw new InvalidMessageError(`${what}: bad CID length ${prefix.value}`)
  const cid = parseCid(body.subarray(prefix.next, cidEnd), what)
  if (status === STATUS_NOT_FOUND) {
    if (cidEnd !== length) throw new InvalidMessageError(`${what}: not-found carries ${length - cidEnd} trailing bytes`)
    return { cid, codec: CODEC_RAW }
  }
  if (length - cidEnd > MAX_BLOCK_BYTES) throw new InvalidMessageError(`${what}: block exceeds ${MAX_BLOCK_BYTES} bytes`)
  return { cid, bytes: blockBytes(body.sublist(cidEnd), target), codec: status === STATUS_OK_ZSTD ? CODEC_ZSTD : CODEC_RAW }
}

/** The bytes of `list` in one Uint8Array: the chunk itself when there is one, else a copy (into `target(length)` where given). */
function blockBytes (list: Uint8ArrayList, target?: (length: number) => Uint8Array): Uint8Array {
  let chunks = 0
  for (const _ of list) if (++chunks > 1) break
  if (chunks <= 1 || target === undefined) return list.subarray()
  const out = target(list.byteLength)
  let at = 0
  for (const chunk of list) { out.set(chunk, at); at += chunk.byteLength }
  return out
}

// --- /cachecloud/catalog/1.0.0 ---

/** LIST request; an empty `name` lists every image. */
export function encodeCatalogRequest (name = ''): Uint8ArrayList {
  return encodeFrame(new BodyWriter().byte(MSG_LIST).bytes(encoder.encode(name)).finish())
}

export function decodeCatalogRequest (body: Uint8ArrayList | Uint8Array): { name?: string } {
  const r = new BodyReader(contiguous(body), 'LIST')
  if (r.byte() !== MSG_LIST) r.fail('unknown message type')
  const length = r.varint()
  const name = length === 0 ? undefined : r.label('image name', length)
  r.end()
  return name === undefined ? {} : { name }
}

export function encodeCatalogResponse (versions: RemoteVersion[]): Uint8ArrayList {
  const w = new BodyWriter().varint(versions.length)
  for (const v of versions) {
    w.byte(v.state === 'complete' ? STATE_COMPLETE : STATE_PULLING)
      .bytes(encoder.encode(v.name)).bytes(encoder.encode(v.version)).bytes(v.cid.bytes)
      .varint(v.size).varint(v.blockSize)
  }
  return encodeFrame(w.finish())
}

export function decodeCatalogResponse (body: Uint8ArrayList | Uint8Array): RemoteVersion[] {
  const r = new BodyReader(contiguous(body), 'catalog response')
  const count = r.varint()
  const versions: RemoteVersion[] = []
  for (let i = 0; i < count; i++) {
    const state = r.byte()
    if (state !== STATE_COMPLETE && state !== STATE_PULLING) r.fail(`unknown state ${state}`)
    const name = r.label('image name')
    const version = r.label('version')
    const cid = r.cid()
    const size = r.varint()
    const blockSize = r.varint()
    if (!Number.isSafeInteger(size) || blockSize === 0) r.fail('bad size or block size')
    versions.push({ name, version, cid, state: state === STATE_COMPLETE ? 'complete' : 'pulling', size, blockSize })
  }
  r.end()
  return versions
}

// --- /cachecloud/manifest/1.0.0 ---

export function encodeManifestRequest (cid: CID): Uint8ArrayList {
  return encodeFrame(new BodyWriter().byte(MSG_GET_MANIFEST).bytes(cid.bytes).finish())
}

export function decodeManifestRequest (body: Uint8ArrayList | Uint8Array): CID {
  const r = new BodyReader(contiguous(body), 'GET_MANIFEST')
  if (r.byte() !== MSG_GET_MANIFEST) r.fail('unknown message type')
  const cid = r.cid()
  r.end()
  return cid
}

/** The manifest's dag-cbor bytes, or not-found when `bytes` is absent. */
export function encodeManifestResponse (bytes?: Uint8Array): Uint8ArrayList {
  return bytes === undefined ? encodeFrame(Uint8Array.of(STATUS_NOT_FOUND)) : encodeFrame(Uint8Array.of(STATUS_OK), bytes)
}

export function decodeManifestResponse (body: Uint8ArrayList | Uint8Array): Uint8Array | undefined {
  const bytes = contiguous(body)
  if (bytes.byteLength === 0) throw new InvalidMessageError('manifest response: empty')
  if (bytes[0] === STATUS_NOT_FOUND) {
    if (bytes.byteLength !== 1) throw new InvalidMessageError('manifest response: not-found carries trailing bytes')
    return undefined
  }
  if (bytes[0] !== STATUS_OK) throw new InvalidMessageError(`manifest response: unknown status ${bytes[0]}`)
  return bytes.subarray(1)
}
