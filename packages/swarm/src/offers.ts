import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { formatVersionRef, type CID, type ImageManifest, type VersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import { UntrustedPublisherError, verifyManifest, type TrustStore } from '@cachecloud/manifest'
import { requestCatalog, requestManifest, withTimeout, type RemoteVersion } from '@cachecloud/transfer'
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

/** A trusted manifest for `ref`: from the local catalog, or fetched from a peer offering it and verified. */
export async function resolveManifest (
  ctx: { libp2p: Libp2p, catalog: Catalog, trust: TrustStore, timeoutMs: number, log?: Logger },
  ref: VersionRef,
  signal?: AbortSignal
): Promise<{ cid: CID, manifest: ImageManifest }> {
  const local = await ctx.catalog.find(ref)
  if (local !== undefined) return { cid: local.cid, manifest: await ctx.catalog.manifest(ref) }
  const offers = (await askCatalogs(ctx.libp2p, ref.name, ctx.timeoutMs, ctx.log, signal)).filter(o => o.version.version === ref.version)
  // most offered CID first, complete holders first: the signature decides in the end
  const votes = new Map<string, number>()
  for (const o of offers) votes.set(o.version.cid.toString(), (votes.get(o.version.cid.toString()) ?? 0) + (o.version.state === 'complete' ? 2 : 1))
  offers.sort((a, b) => (votes.get(b.version.cid.toString()) ?? 0) - (votes.get(a.version.cid.toString()) ?? 0) || Number(b.version.state === 'complete') - Number(a.version.state === 'complete'))
  const errors: string[] = []
  let untrusted: UntrustedPublisherError | undefined
  let untrustedOffers = 0
  for (const offer of offers) {
    try {
      const { manifest } = await requestManifest(ctx.libp2p, offer.peer, offer.version.cid, withTimeout(ctx.timeoutMs, signal))
      if (manifest.name !== ref.name || manifest.version !== ref.version) throw new Error(`manifest describes ${manifest.name}@${manifest.version}`)
      verifyManifest(manifest, ctx.trust)
      return { cid: offer.version.cid, manifest }
    } catch (err) {
      signal?.throwIfAborted()
      ctx.log?.warn({ peer: offer.peer.toString(), err }, 'manifest of %s from %s refused: %s', formatVersionRef(ref), offer.peer.toString(), (err as Error).message)
      errors.push((err as Error).message)
      if (err instanceof UntrustedPublisherError) { untrusted ??= err; untrustedOffers++ }
    }
  }
  // every offer was a manifest signed by a key this node does not trust: say so (an integrity/trust failure, not "unavailable")
  if (untrusted !== undefined && untrustedOffers === offers.length) {
    throw new UntrustedPublisherError(`${formatVersionRef(ref)} is offered only with a manifest of an untrusted publisher: ${untrusted.message}`)
  }
  throw new SwarmVersionUnavailableError(`none of ${ctx.libp2p.getPeers().length} connected peers offers a trusted manifest of ${formatVersionRef(ref)}` + (errors.length > 0 ? `: ${errors.join('; ')}` : ''))
}
