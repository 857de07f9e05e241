import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { formatVersionRef, type CID, type VersionRef } from '@cachecloud/core'
import { type ImageManifest } from '@cachecloud/manifest'
import type { Catalog } from '@cachecloud/image'
import type { TrustStore } from '@cachecloud/manifest'
import { requestCatalog, resolveOfferedManifest, withTimeout, type RemoteVersion } from '@cachecloud/transfer'
import { SwarmVersionUnavailableError } from './errors.js'

export interface Offer { peer: PeerId, version: RemoteVersion }

/** Every connected peer's catalog entries for `name` (failures logged and skipped). */
export async function askCatalogs (libp2p: Libp2p, name: string, timeoutMs: number, log?: Logger, signal?: AbortSignal): Promise<Offer[]> {
  const offers: Offer[] = []
  await Promise.all(libp2p.getPeers().map(async peer => {
    try {
      const { versions } = await requestCatalog(libp2p, peer, withTimeout(timeoutMs, signal), name)
      for (const version of versions) if (version.name === name) offers.push({ peer, version })
    } catch (err) {
      log?.debug({ peer: peer.toString(), err }, 'catalog of %s unavailable', peer.toString())
    }
  }))
  return offers
}

/** Where a ref's manifest can be had at once: the CID a signed announcement named, and its announcer (which holds it). */
export interface ManifestHint { cid: CID, peer: PeerId }

/**
 * A trusted manifest for `ref`: from the local catalog, or fetched from a peer offering it and verified.
 * With a `hint` whose peer is connected, from that peer first (no round of catalogs; verified alike), and
 * from the offers if that fails.
 */
export async function resolveManifest (
  ctx: { libp2p: Libp2p, catalog: Catalog, trust: TrustStore, timeoutMs: number, log?: Logger },
  ref: VersionRef,
  signal?: AbortSignal,
  hint?: ManifestHint
): Promise<{ cid: CID, manifest: ImageManifest }> {
  const local = await ctx.catalog.find(ref)
  if (local !== undefined) return { cid: local.cid, manifest: await ctx.catalog.manifest(ref) }
  if (hint !== undefined && ctx.libp2p.getConnections(hint.peer).length > 0) {
    try {
      const started = performance.now()
      const peer = hint.peer.toString()
      const resolved = await resolveOfferedManifest(ctx, ref, [{ target: hint.peer, peer, cid: hint.cid, complete: true }], { signal })
      ctx.log?.debug({ ref: formatVersionRef(ref), from: peer, manifestMs: Math.round(performance.now() - started) }, 'manifest of %s from its announcer', formatVersionRef(ref))
      return { cid: resolved.cid, manifest: resolved.manifest }
    } catch (err) {
      signal?.throwIfAborted()
      ctx.log?.debug({ err, ref: formatVersionRef(ref) }, 'manifest of %s not had from its announcer: %s', formatVersionRef(ref), (err as Error).message)
    }
  }
  const started = performance.now()
  const offers = (await askCatalogs(ctx.libp2p, ref.name, ctx.timeoutMs, ctx.log, signal)).filter(o => o.version.version === ref.version)
  const asked = performance.now()
  // the rule a direct pull uses: most offered CID first, an untrusted or forged manifest rules out its CID only
  const { cid, manifest } = await resolveOfferedManifest(ctx, ref, offers.map(o => ({ target: o.peer, peer: o.peer.toString(), cid: o.version.cid, complete: o.version.state === 'complete' })), {
    signal,
    unavailable: (message: string, cause?: Error) => new SwarmVersionUnavailableError(`none of ${ctx.libp2p.getPeers().length} connected peers offers a trusted manifest of ${formatVersionRef(ref)}: ${message}`, { cause })
  })
  ctx.log?.debug({ ref: formatVersionRef(ref), offers: offers.length, catalogsMs: Math.round(asked - started), manifestMs: Math.round(performance.now() - asked) }, 'manifest of %s resolved', formatVersionRef(ref))
  return { cid, manifest }
}
