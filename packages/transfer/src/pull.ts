import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import { formatVersionRef, type CID, type ProgressOptions, type VersionRef } from '@cachecloud/core'
import { type ImageManifest } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import { missingBlocks, type Catalog } from '@cachecloud/image'
import type { TrustStore } from '@cachecloud/manifest'
import { runBlockSession } from './block-session.js'
import { sleep } from './dial.js'
import { requestCatalog, withTimeout, type PeerTarget } from './client.js'
import { resolveOfferedManifest, type ManifestOffer, type ResolvedManifest } from './resolve.js'
import { MAX_BLOCK_BYTES, SESSION_ATTEMPTS, SESSION_RETRY_MS } from './constants.js'
import { PeerMisbehavedError, PullFailedError, VersionUnavailableError } from './errors.js'
import type { BlockWant, PullScheduler } from './scheduler.js'

export interface PullInit extends ProgressOptions<'pull:block'> {
  ref: VersionRef
  /** Peers to ask, in order of preference. */
  peers: PeerTarget[]
  signal?: AbortSignal
}

export interface PullResult {
  /** Manifest CID of the version. */
  cid: CID
  manifest: ImageManifest
  /** Blocks fetched and stored by this pull. */
  fetchedBlocks: number
  /** Block payload bytes fetched. */
  fetchedBytes: number
  /** Every byte received on the blocks protocol, framing included. */
  wireBytes: number
  /** Distinct blocks already present before the pull. */
  heldBlocks: number
  /** All-zero blocks of the image (never fetched). */
  holes: number
  durationMs: number
  /** Block payload bytes by peer id. */
  bytesByPeer: Record<string, number>
}

export interface PullContext {
  libp2p: Libp2p
  blockstore: Blockstore
  catalog: Catalog
  trust: TrustStore
  log?: Logger
  createScheduler: (wants: BlockWant[]) => PullScheduler
  maxInFlightBytes: number
  batchBytes: number
  commitBytes: number
  putConcurrency: number
  timeoutMs: number
  blockProtocols?: readonly string[]
  receiveBudget?: (peer: string, bytes: number) => Promise<void>
}

function countBlocks (manifest: ImageManifest): { distinct: number, holes: number } {
  const seen = new Set<string>()
  let holes = 0
  for (const cid of manifest.blocks) {
    if (cid === null) holes++
    else seen.add(Buffer.from(cid.multihash.bytes).toString('latin1'))
  }
  return { distinct: seen.size, holes }
}

/** Asks every peer's catalog for the version, then takes the manifest by the rule of resolve.ts (only `localCid` when a pull of it was started). */
async function resolveFromPeers (ctx: PullContext, init: PullInit, localCid: CID | undefined): Promise<ResolvedManifest> {
  const ref = formatVersionRef(init.ref)
  const errors: Error[] = []
  const found = await Promise.all(init.peers.map(async (target): Promise<ManifestOffer | undefined> => {
    try {
      const { peer, versions } = await requestCatalog(ctx.libp2p, target, withTimeout(ctx.timeoutMs, init.signal), init.ref.name)
      const version = versions.find(v => v.name === init.ref.name && v.version === init.ref.version)
      return version === undefined ? undefined : { target, peer, cid: version.cid, complete: version.state === 'complete' }
    } catch (err) {
      init.signal?.throwIfAborted()
      ctx.log?.warn({ peer: target.toString(), err }, 'catalog of %s unavailable: %s', target.toString(), (err as Error).message)
      errors.push(err as Error)
      return undefined
    }
  }))
  const offers = found.filter((o): o is ManifestOffer => o !== undefined)
  if (offers.length === 0 || (localCid !== undefined && !offers.some(o => o.cid.equals(localCid)))) {
    throw new VersionUnavailableError(`none of the ${init.peers.length} peers offers ${ref}` + (errors.length > 0 ? ` (${errors.length} unreachable: ${errors[0].message})` : ''), { cause: errors.length > 0 ? new AggregateError(errors) : undefined })
  }
  return await resolveOfferedManifest(ctx, init.ref, offers, { onlyCid: localCid, signal: init.signal })
}

/** See Transfer.pull. */
export async function pull (ctx: PullContext, init: PullInit): Promise<PullResult> {
  const started = performance.now()
  init.signal?.throwIfAborted()
  const ref = formatVersionRef(init.ref)
  const local = await ctx.catalog.find(init.ref)
  if (local?.state === 'complete') {
    const manifest = await ctx.catalog.manifest(init.ref)
    const { distinct, holes } = countBlocks(manifest)
    return {
      cid: local.cid,
      manifest,
      fetchedBlocks: 0,
      fetchedBytes: 0,
      wireBytes: 0,
      heldBlocks: distinct,
      holes,
      durationMs: performance.now() - started,
      bytesByPeer: {}
    }
  }

  const { cid, manifest, offers } = await resolveFromPeers(ctx, init, local?.cid)
  if (manifest.blockSize > MAX_BLOCK_BYTES) throw new PullFailedError(`${ref} uses ${manifest.blockSize}-byte blocks; at most ${MAX_BLOCK_BYTES} can be transferred`)
  await ctx.catalog.add(manifest, 'pulling')

  const { distinct, holes } = countBlocks(manifest)
  const missing = await missingBlocks(manifest, async c => await ctx.blockstore.has(c), { signal: init.signal })
  const fetch = new BlockFetch(ctx, init, missing.blocks, missing.bytes)
  await fetch.run(offers.map(o => o.target))

  await ctx.blockstore.sync()
  await ctx.catalog.markComplete(init.ref)
  ctx.log?.info({ ref, cid: cid.toString(), fetchedBytes: fetch.fetchedBytes, peers: fetch.bytesByPeer }, 'pulled %s', ref)
  return {
    cid,
    manifest,
    fetchedBlocks: fetch.fetchedBlocks,
    fetchedBytes: fetch.fetchedBytes,
    wireBytes: fetch.wireBytes,
    heldBlocks: distinct - missing.blocks.length,
    holes,
    durationMs: performance.now() - started,
    bytesByPeer: fetch.bytesByPeer
  }
}

/** The block phase of a pull: one session per peer sharing a scheduler, batched commits. */
class BlockFetch {
  fetchedBlocks = 0
  fetchedBytes = 0
  wireBytes = 0
  bytesByPeer: Record<string, number> = {}
  private sinceCommit = 0
  private commits: Promise<void> = Promise.resolve()
  private fatal: Error | undefined
  private readonly controller = new AbortController()
  private readonly scheduler: PullScheduler

  constructor (private readonly ctx: PullContext, private readonly init: PullInit, private readonly wants: BlockWant[], private readonly totalBytes: number) {
    this.scheduler = ctx.createScheduler(wants)
  }

  async run (targets: PeerTarget[]): Promise<void> {
    if (this.wants.length === 0) return
    const signal = this.init.signal === undefined ? this.controller.signal : AbortSignal.any([this.init.signal, this.controller.signal])
    const session = {
      libp2p: this.ctx.libp2p,
      blockstore: this.ctx.blockstore,
      scheduler: this.scheduler,
      signal,
      maxInFlightBytes: this.ctx.maxInFlightBytes,
      batchBytes: this.ctx.batchBytes,
      putConcurrency: this.ctx.putConcurrency,
      timeoutMs: this.ctx.timeoutMs,
      blockProtocols: this.ctx.blockProtocols,
      receiveBudget: this.ctx.receiveBudget,
      onConnect: (peer: string) => { this.bytesByPeer[peer] ??= 0 },
      onWire: (_peer: string, bytes: number) => { this.wireBytes += bytes },
      onStored: (peer: string, want: BlockWant) => { this.stored(peer, want) },
      onFatal: (err: Error) => { this.fail(err) }
    }
    const errors: Error[] = []
    await Promise.all(targets.map(async target => {
      // a session cut short (stream closed, connection lost, a loaded seed) is started again while sessions make
      // progress; a peer that broke the protocol is not asked again
      for (let failures = 0; ;) {
        const storedBefore = this.fetchedBlocks
        try {
          await runBlockSession(session, target)
          return
        } catch (err) {
          if (signal.aborted) return
          failures = this.fetchedBlocks > storedBefore ? 1 : failures + 1
          const again = !(err instanceof PeerMisbehavedError) && failures < SESSION_ATTEMPTS && this.scheduler.remaining > 0
          this.ctx.log?.warn({ peer: target.toString(), err, again }, 'block exchange with %s failed%s: %s', target.toString(), again ? ' (starting it again)' : '', (err as Error).message)
          if (!again) {
            errors.push(err as Error)
            return
          }
          // aborted while waiting: stop now, not after the wait
          if (!await sleep(SESSION_RETRY_MS * failures, signal).then(() => true, () => false)) return
        }
      }
    }))
    // keep what arrived durable whatever happens next, so a later pull resumes from it
    this.commits = this.commits.then(async () => { await this.ctx.blockstore.sync() })
    await this.commits.catch(err => { this.fatal ??= err })
    if (this.fatal !== undefined) throw this.fatal
    this.init.signal?.throwIfAborted()
    if (this.scheduler.remaining > 0) {
      const why = errors.length > 0 ? errors.map(e => e.message).join('; ') : 'no peer holds them'
      throw new PullFailedError(`${this.scheduler.remaining} of ${this.wants.length} blocks of ${formatVersionRef(this.init.ref)} could not be fetched: ${why}`, { cause: errors.length === 1 ? errors[0] : new AggregateError(errors) })
    }
  }

  private stored (peer: string, want: BlockWant): void {
    this.fetchedBlocks++
    this.fetchedBytes += want.length
    this.bytesByPeer[peer] = (this.bytesByPeer[peer] ?? 0) + want.length
    this.sinceCommit += want.length
    if (this.sinceCommit >= this.ctx.commitBytes) {
      this.sinceCommit = 0
      this.commits = this.commits.then(async () => { await this.ctx.blockstore.sync() }).catch(err => { this.fail(err) })
    }
    this.init.onProgress?.({
      type: 'pull:block',
      done: this.fetchedBytes,
      total: this.totalBytes,
      unit: 'bytes',
      detail: { blocksDone: this.fetchedBlocks, blocksTotal: this.wants.length, peer }
    })
  }

  private fail (err: Error): void {
    this.fatal ??= err
    this.controller.abort(err)
  }
}
