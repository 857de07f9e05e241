import type { CID } from '@cachecloud/core'

/**
 * Rendezvous hashing of blocks onto a site's pulling group: which member
 * fetches a block over the WAN. A member joining or leaving moves only its own
 * share, never another member's.
 */
export class Rendezvous {
  private readonly seeds = new Map<string, number>()

  /** The member of `group` (not empty) that owns the block whose blockHashOf is `blockHash`. */
  owner (blockHash: number, group: string[]): string {
    let best = group[0]
    let bestWeight = -1
    for (const member of group) {
      const weight = mix(blockHash ^ this.seedOf(member))
      if (weight > bestWeight) { bestWeight = weight; best = member }
    }
    return best
  }

  /** FNV-1a of the peer id, kept per peer. */
  private seedOf (peer: string): number {
    let seed = this.seeds.get(peer)
    if (seed === undefined) {
      seed = 2166136261
      for (let i = 0; i < peer.length; i++) seed = Math.imul(seed ^ peer.charCodeAt(i), 16777619) >>> 0
      this.seeds.set(peer, seed)
    }
    return seed
  }
}

/** A block's place in the hashing: the first four bytes of its CID's digest, as an unsigned 32-bit integer. */
export function blockHashOf (cid: CID): number {
  const d = cid.multihash.digest
  return ((d[0] << 24) | (d[1] << 16) | (d[2] << 8) | d[3]) >>> 0
}

/** 32-bit integer hash (murmur3 finalizer). */
function mix (x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b)
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35)
  return (x ^ (x >>> 16)) >>> 0
}
