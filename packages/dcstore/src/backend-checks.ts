import { BlockCorruptError, BlockNotFoundError, BlockTooLargeError, UnsupportedCidError } from '@cachecloud/blockstore'
import { bytesMatchCid, parseCid, type CID } from '@cachecloud/core'
import { DirectoryOrderError } from '@cachecloud/personal-format'
import { MAX_BACKEND_BLOCK_BYTES } from './constants.js'
import { assertValidUser } from './enrollment.js'

const SHA2_256 = 0x12

/** What every backend checks before a put does any work: a user name that is a path segment, a CID it keys by, a bounded size, bytes that hash to the CID. */
export function checkPut (user: string, cid: CID, bytes: Uint8Array): void {
  checkKey(user, cid)
  if (bytes.byteLength > MAX_BACKEND_BLOCK_BYTES) throw new BlockTooLargeError(`block of ${bytes.byteLength} bytes exceeds the limit of ${MAX_BACKEND_BLOCK_BYTES}`)
  if (!bytesMatchCid(cid, bytes)) throw new BlockCorruptError(`bytes do not hash to ${cid.toString()}`)
}

/** A user name and a CIDv1 with a sha2-256 multihash (the only keys a backend names objects by). */
export function checkKey (user: string, cid: CID): void {
  assertValidUser(user)
  if (cid.version !== 1 || cid.multihash.code !== SHA2_256) throw new UnsupportedCidError(`cannot store ${cid.toString()}: only CIDv1 with sha2-256`)
}

/** A stored object's name back to its CID; undefined for anything else found there (a temporary, a stray file). */
export function cidOfName (name: string): CID | undefined {
  if (!/^b[a-z2-7]{10,120}$/.test(name)) return undefined
  try {
    const cid = parseCid(name)
    return cid.version === 1 && cid.multihash.code === SHA2_256 && cid.toString() === name ? cid : undefined
  } catch { return undefined }
}

/** What a failed read says of a block: gone, or damaged (bad hash, oversized, a directory block out of order); undefined for any other failure. */
export function blockDamageOf (err: unknown): 'missing' | 'corrupt' | undefined {
  if (err instanceof BlockNotFoundError) return 'missing'
  if (err instanceof BlockCorruptError || err instanceof BlockTooLargeError || err instanceof DirectoryOrderError) return 'corrupt'
  return undefined
}
