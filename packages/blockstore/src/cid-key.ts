/**
 * The in-memory and on-disk name of a block: its binary CID. Map keys are the
 * binary CID as a latin1 string (36 characters for raw and dag-cbor), about a
 * third the size of the base32 text form and without any encoding work.
 */
import { SHA2_256_CODE } from '@cachecloud/core'
import { CID } from 'multiformats/cid'

/** True for CIDs the store can hold: CIDv1 with a 32-byte sha2-256 digest (any codec). */
export function isSupportedCid (cid: CID): boolean {
  return cid.version === 1 && cid.multihash.code === SHA2_256_CODE && cid.multihash.size === 32
}

export function keyOf (cid: CID): string {
  return Buffer.from(cid.bytes.buffer, cid.bytes.byteOffset, cid.bytes.byteLength).toString('latin1')
}

export function cidOfKey (key: string): CID {
  return CID.decode(Buffer.from(key, 'latin1'))
}

/** The supported CID encoded by `bytes`, or undefined (pack and log parsing). */
export function decodeSupportedCid (bytes: Uint8Array): CID | undefined {
  try {
    const cid = CID.decode(bytes)
    return isSupportedCid(cid) ? cid : undefined
  } catch {
    return undefined
  }
}
