import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import { formatVersionRef, type VersionRef } from '@cachecloud/core'
import type { Blockstore } from '@cachecloud/blockstore'
import { missingBlocks, type Catalog } from '@cachecloud/image'
import type { TrustStore } from '@cachecloud/manifest'
import { withTimeout } from '@cachecloud/transfer'
import { requestHave } from './have.js'
import type { HaveAnswer } from './have-wire.js'
import { blockKey, indexesByBlock } from './holdings.js'
import { resolveManifest } from './offers.js'
import { requestSizes } from './sizes.js'

/** What pulling a version would cost this node, before anything moves. */
export interface PullPlan {
  ref: string
  cid: string
  /** Distinct non-hole blocks of the version and their bytes. */
  blocks: number
  bytes: number
  /** Of those, the ones this node lacks. */
  missingBlocks: number
  missingBytes: number
  /** Missing blocks that a peer of this node's site holds (they would come over the LAN); `lanBytes`: what would cross the link for them (compressed, as the holders store them). */
  lanBlocks: number
  lanBytes: number
  /** Missing blocks no peer of this site holds: they must cross the WAN (once for the site); `wanBytes`: what would cross the link (compressed, as the holders store them). */
  wanBlocks: number
  wanBytes: number
  /** The same blocks' raw bytes. */
  lanRawBytes: number
  wanRawBytes: number
  /** Missing blocks no connected peer holds yet. */
  unavailableBlocks: number
  peers: Array<{ peer: string, site: string, lan: boolean, state: HaveAnswer['state'] }>
}

export async function planPull (
  ctx: { libp2p: Libp2p, blockstore: Blockstore, catalog: Catalog, trust: TrustStore, site: string, timeoutMs: number, log?: Logger },
  ref: VersionRef,
  signal?: AbortSignal
): Promise<PullPlan> {
  const { cid, manifest } = await resolveManifest(ctx, ref, signal)
  const indexes = indexesByBlock(manifest)
  const missing = await missingBlocks(manifest, async c => await ctx.blockstore.has(c), { signal })
  const answers: PullPlan['peers'] = []
  const holds: Array<{ lan: boolean, answer: HaveAnswer, sizes?: number[] }> = []
  await Promise.all(ctx.libp2p.getPeers().map(async peer => {
    try {
      const answer = await requestHave(ctx.libp2p, peer, cid, withTimeout(ctx.timeoutMs, signal))
      const lan = ctx.site !== '' && answer.site === ctx.site
      answers.push({ peer: peer.toString(), site: answer.site, lan, state: answer.state })
      // what its blocks take on the wire; a peer of an older version (no sizes protocol) counts raw bytes
      const sizes = answer.state === 'none'
        ? undefined
        : await requestSizes(ctx.libp2p, peer, cid, manifest.blocks.length, manifest.blockSize, withTimeout(ctx.timeoutMs, signal)).catch(() => undefined)
      holds.push({ lan, answer, ...(sizes !== undefined ? { sizes } : {}) })
    } catch (err) {
      ctx.log?.debug({ peer: peer.toString(), err }, 'plan: have of %s failed', peer.toString())
    }
  }))
  const held = (answer: HaveAnswer, i: number): boolean => answer.state === 'complete' || (answer.state === 'partial' && i < answer.count && (answer.bitmap[i >> 3] & (1 << (i & 7))) !== 0)
  const plan: PullPlan = {
    ref: formatVersionRef(ref),
    cid: cid.toString(),
    blocks: indexes.size,
    bytes: 0,
    missingBlocks: missing.blocks.length,
    missingBytes: missing.bytes,
    lanBlocks: 0,
    lanBytes: 0,
    wanBlocks: 0,
    wanBytes: 0,
    lanRawBytes: 0,
    wanRawBytes: 0,
    unavailableBlocks: 0,
    peers: answers
  }
  for (const list of indexes.values()) plan.bytes += blockBytes(manifest, list[0])
  // the stored size a holder of block i reported (a block crosses the link as its sender stores it), else its raw length
  const wireSize = (lan: boolean, i: number, raw: number): number => {
    const size = holds.find(h => h.lan === lan && held(h.answer, i) && (h.sizes?.[i] ?? 0) > 0)?.sizes?.[i]
    return size ?? raw
  }
  for (const block of missing.blocks) {
    const i = (indexes.get(blockKey(block.cid)) as number[])[0]
    if (holds.some(h => h.lan && held(h.answer, i))) {
      plan.lanBlocks++
      plan.lanRawBytes += block.length
      plan.lanBytes += wireSize(true, i, block.length)
      continue
    }
    plan.wanBlocks++
    plan.wanRawBytes += block.length
    plan.wanBytes += wireSize(false, i, block.length)
    if (!holds.some(h => held(h.answer, i))) plan.unavailableBlocks++
  }
  return plan
}

function blockBytes (manifest: { size: number, blockSize: number }, i: number): number {
  return Math.min(manifest.blockSize, manifest.size - i * manifest.blockSize)
}
