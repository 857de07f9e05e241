/**
 * Where things live inside a store directory (docs/formats/blockstore.md).
 * A block's file name is its CID in the canonical base32 string form; its
 * shard is the next-to-last two characters, which come from the digest's
 * last bits and so spread blocks evenly over 32 * 32 = 1024 directories.
 */
import { join } from 'node:path'
import { SHA2_256_CODE } from '@cachecloud/core'
import { CID } from 'multiformats/cid'
import { BLOCKS_DIR, DIRTY_FILE, SHARD_CHARS, TMP_DIR, VERSION_FILE } from './constants.js'

/** Base32 lowercase alphabet (RFC 4648) of CIDv1 strings, hence of shard names. */
const BASE32_ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567'

/** Every shard directory name, in sorted order. */
export const SHARD_NAMES: readonly string[] = (() => {
  const names: string[] = []
  for (const a of BASE32_ALPHABET) for (const b of BASE32_ALPHABET) names.push(a + b)
  return names.sort()
})()

export class Layout {
  readonly root: string
  readonly blocks: string
  readonly tmp: string
  readonly version: string
  readonly dirty: string

  constructor (root: string) {
    this.root = root
    this.blocks = join(root, BLOCKS_DIR)
    this.tmp = join(root, TMP_DIR)
    this.version = join(root, VERSION_FILE)
    this.dirty = join(root, DIRTY_FILE)
  }

  shardDir (shard: string): string {
    return join(this.blocks, shard)
  }

  blockPath (key: string): string {
    return join(this.blocks, shardOf(key), key)
  }
}

export function shardOf (key: string): string {
  return key.slice(-SHARD_CHARS - 1, -1)
}

/** True for CIDs the store can hold: CIDv1 with a 32-byte sha2-256 digest (any codec). */
export function isSupportedCid (cid: CID): boolean {
  return cid.version === 1 && cid.multihash.code === SHA2_256_CODE && cid.multihash.size === 32
}

/** The file name of a block: its CID string (base32 for CIDv1). */
export function keyOf (cid: CID): string {
  return cid.toString()
}

/** The CID named by a block file, or undefined for a name the store did not write. */
export function cidOfKey (name: string, shard: string): CID | undefined {
  if (shardOf(name) !== shard) return undefined
  try {
    const cid = CID.parse(name)
    return isSupportedCid(cid) && cid.toString() === name ? cid : undefined
  } catch {
    return undefined
  }
}
