/**
 * One rule for choosing a version's manifest among what peers offer, used by
 * a direct pull and by the swarm: offers are grouped by manifest CID, the
 * most offered first (a complete holder counts twice), and each CID is
 * fetched from its offerers until one delivers a manifest that names the
 * version and verifies against the trust store. A manifest of an untrusted
 * key or with a bad signature rules out its CID (every peer would send the
 * same bytes), never the version: a forged offer, however many peers make
 * it, cannot keep a trusted one from being pulled.
 */
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import { formatVersionRef, type CID, type VersionRef } from '@cachecloud/core'
import { type ImageManifest } from '@cachecloud/manifest'
import { InvalidSignatureError, UntrustedPublisherError, verifyManifest, type TrustStore } from '@cachecloud/manifest'
import { requestManifest, withTimeout, type PeerTarget } from './client.js'
import { VersionUnavailableError } from './errors.js'

/** A peer's offer of a version, as its catalog answered. */
export interface ManifestOffer {
  target: PeerTarget
  /** The peer's id, for logs. */
  peer: string
  cid: CID
  complete: boolean
}

export interface ResolveContext {
  libp2p: Libp2p
  trust: TrustStore
  timeoutMs: number
  log?: Logger
}

export interface ResolvedManifest {
  cid: CID
  manifest: ImageManifest
  /** The offers of that CID, complete holders first. */
  offers: ManifestOffer[]
}

/** Offers grouped by CID, most offered first (complete holders count twice), each group's complete holders first. */
export function rankOffers (offers: ManifestOffer[]): ManifestOffer[][] {
  const groups = new Map<string, { votes: number, offers: ManifestOffer[] }>()
  for (const offer of offers) {
    const key = offer.cid.toString()
    const group = groups.get(key) ?? { votes: 0, offers: [] }
    group.votes += offer.complete ? 2 : 1
    group.offers.push(offer)
    groups.set(key, group)
  }
  return [...groups.values()]
    .sort((a, b) => b.votes - a.votes)
    .map(g => g.offers.sort((a, b) => Number(b.complete) - Number(a.complete)))
}

/**
 * The first CID of `offers` (ranked by rankOffers, or only `onlyCid` when
 * given: a pull already started) whose manifest verifies. Throws
 * UntrustedPublisherError when every offered CID was signed by an untrusted
 * key, else VersionUnavailableError (or `unavailable`'s error).
 */
export async function resolveOfferedManifest (
  ctx: ResolveContext,
  ref: VersionRef,
  offers: ManifestOffer[],
  options: { onlyCid?: CID, signal?: AbortSignal, unavailable?: (message: string, cause?: Error) => Error } = {}
): Promise<ResolvedManifest> {
  const name = formatVersionRef(ref)
  const candidates = options.onlyCid === undefined ? offers : offers.filter(o => o.cid.equals(options.onlyCid as CID))
  const groups = rankOffers(candidates)
  const errors: Error[] = []
  let untrusted: UntrustedPublisherError | undefined
  let untrustedGroups = 0
  for (const group of groups) {
    const cid = (group[0] as ManifestOffer).cid
    for (const offer of group) {
      try {
        const { manifest } = await requestManifest(ctx.libp2p, offer.target, cid, withTimeout(ctx.timeoutMs, options.signal))
        if (manifest.name !== ref.name || manifest.version !== ref.version) {
          throw new VersionUnavailableError(`peer ${offer.peer} offered manifest ${cid.toString()} for ${name}, but it describes ${manifest.name}@${manifest.version}`)
        }
        verifyManifest(manifest, ctx.trust)
        return { cid, manifest, offers: group }
      } catch (err) {
        options.signal?.throwIfAborted()
        ctx.log?.warn({ peer: offer.peer, err }, 'manifest %s of %s from %s refused: %s', cid.toString(), name, offer.peer, (err as Error).message)
        errors.push(err as Error)
        if (err instanceof UntrustedPublisherError || err instanceof InvalidSignatureError) {
          if (err instanceof UntrustedPublisherError) { untrusted ??= err; untrustedGroups++ }
          break // the same bytes from every peer: try the next CID
        }
      }
    }
  }
  if (untrusted !== undefined && untrustedGroups === groups.length) {
    throw new UntrustedPublisherError(`${name} is offered only with a manifest of an untrusted publisher: ${untrusted.message}`)
  }
  const message = groups.length === 0
    ? `no peer offers ${name}`
    : `no peer delivered a trusted manifest of ${name}: ${errors.map(e => e.message).join('; ')}`
  const cause = errors.length > 0 ? new AggregateError(errors) : undefined
  throw options.unavailable?.(message, cause) ?? new VersionUnavailableError(message, { cause })
}
