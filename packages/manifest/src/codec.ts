import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { bytesMatchCid, cidOf, DAG_CBOR_CODEC, RAW_CODEC } from '@cachecloud/core'
import { IMAGE_MANIFEST_FORMAT, type ImageManifest, type UnsignedImageManifest } from './types.js'
import { MAX_MANIFEST_BYTES } from './constants.js'
import { InvalidManifestError } from './errors.js'

export interface EncodedManifest {
  bytes: Uint8Array
  /** dag-cbor CIDv1 of `bytes`: the version's identity. */
  cid: CID
}

export function encodeManifest (manifest: ImageManifest): EncodedManifest {
  const bytes = dagCbor.encode(manifest)
  return { bytes, cid: cidOf(bytes, DAG_CBOR_CODEC) }
}

/** The bytes a publisher signs: dag-cbor of every field but `signature`. */
export function signingBytes (manifest: UnsignedImageManifest): Uint8Array {
  const { signature: _omit, ...unsigned } = manifest as ImageManifest
  return dagCbor.encode(unsigned)
}

function fail (why: string): never {
  throw new InvalidManifestError(`corrupt manifest: ${why}`)
}

function isNonNegativeInteger (value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0
}

/** Decodes and validates every field; anything malformed throws InvalidManifestError. */
export function decodeManifest (bytes: Uint8Array): ImageManifest {
  if (bytes.byteLength > MAX_MANIFEST_BYTES) fail(`${bytes.byteLength} bytes exceeds the ${MAX_MANIFEST_BYTES}-byte limit`)
  let value: unknown
  try {
    value = dagCbor.decode(bytes)
  } catch (err) {
    throw new InvalidManifestError(`corrupt manifest: not dag-cbor (${(err as Error).message})`, { cause: err })
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('not a map')
  const m = value as Record<string, unknown>
  if (m.format !== IMAGE_MANIFEST_FORMAT) fail(`unknown format ${JSON.stringify(m.format)}`)
  if (typeof m.name !== 'string' || typeof m.version !== 'string') fail('name and version must be strings')
  if (m.parent !== null && CID.asCID(m.parent) === null) fail('parent must be a CID or null')
  if (!isNonNegativeInteger(m.size)) fail('size must be a non-negative integer')
  if (!isNonNegativeInteger(m.blockSize) || m.blockSize === 0) fail('blockSize must be a positive integer')
  if (!Array.isArray(m.blocks)) fail('blocks must be a list')
  const expectedBlocks = Math.ceil(m.size / m.blockSize)
  if (m.blocks.length !== expectedBlocks) fail(`${m.blocks.length} blocks listed, ${expectedBlocks} expected for ${m.size} bytes`)
  for (const entry of m.blocks as unknown[]) {
    if (entry === null) continue
    const cid = CID.asCID(entry)
    if (cid === null || cid.code !== RAW_CODEC || cid.version !== 1) fail('every block must be a raw CIDv1 or null')
  }
  if (typeof m.createdAt !== 'string' || Number.isNaN(Date.parse(m.createdAt))) fail('createdAt must be an ISO-8601 time')
  if (!(m.publisher instanceof Uint8Array) || m.publisher.byteLength !== 32) fail('publisher must be a 32-byte ed25519 key')
  if (!(m.signature instanceof Uint8Array) || m.signature.byteLength !== 64) fail('signature must be 64 bytes')
  return m as unknown as ImageManifest
}

/** Decodes manifest bytes received for `cid`, refusing bytes that do not hash to it. */
export function decodeManifestFor (cid: CID, bytes: Uint8Array): ImageManifest {
  if (cid.code !== DAG_CBOR_CODEC) fail(`manifest CID ${cid.toString()} is not dag-cbor`)
  if (!bytesMatchCid(cid, bytes)) fail(`bytes do not match manifest CID ${cid.toString()}`)
  return decodeManifest(bytes)
}
