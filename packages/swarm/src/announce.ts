import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { CID } from 'multiformats/cid'
import { parseVersionRef, type VersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import { verifyManifest, type TrustStore } from '@cachecloud/manifest'
import { requestManifest, withTimeout } from '@cachecloud/transfer'
import { ANNOUNCE_TOPIC_PREFIX, MAX_ANNOUNCE_BYTES } from './constants.js'
import { InvalidSwarmMessageError } from './errors.js'
import { askCatalogs } from './offers.js'

/** A published version: NAME@VERSION and its manifest CID (the manifest's signature is checked on fetch). */
export interface Announcement { ref: VersionRef, cid: CID }

export function announceTopic (name: string): string { return ANNOUNCE_TOPIC_PREFIX + name }

/** UTF-8 JSON `{"ref":"NAME@VERSION","cid":"bafy..."}`, at most MAX_ANNOUNCE_BYTES (docs/formats/protocols.md). */
export function encodeAnnouncement (a: Announcement): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ ref: `${a.ref.name}@${a.ref.version}`, cid: a.cid.toString() }))
}

export function decodeAnnouncement (bytes: Uint8Array): Announcement {
  if (bytes.byteLength > MAX_ANNOUNCE_BYTES) throw new InvalidSwarmMessageError(`announcement of ${bytes.byteLength} bytes`)
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as { ref?: unknown, cid?: unknown }
    if (typeof value.ref !== 'string' || typeof value.cid !== 'string') throw new Error('ref and cid must be strings')
    return { ref: parseVersionRef(value.ref), cid: CID.parse(value.cid) }
  } catch (err) {
    throw new InvalidSwarmMessageError(`bad announcement: ${(err as Error).message}`)
  }
}

/**
 * Catch-up for a node that was away: the newest trusted version of `name`
 * that connected peers hold complete and this node does not hold complete,
 * by the manifests' creation time; undefined when this node is up to date.
 */
export async function newestOffered (
  ctx: { libp2p: Libp2p, catalog: Catalog, trust: TrustStore, timeoutMs: number, log?: Logger },
  name: string,
  peers?: PeerId[]
): Promise<VersionRef | undefined> {
  let offers = await askCatalogs(ctx.libp2p, name, ctx.timeoutMs, ctx.log)
  if (peers !== undefined) offers = offers.filter(o => peers.some(p => p.equals(o.peer)))
  const local = (await ctx.catalog.list()).filter(e => e.name === name)
  const newestLocal = local.reduce((t, e) => e.createdAt > t ? e.createdAt : t, '')
  let best: { ref: VersionRef, createdAt: string } | undefined
  const tried = new Set<string>()
  for (const offer of offers) {
    const key = offer.version.cid.toString()
    if (offer.version.state !== 'complete' || tried.has(key)) continue
    tried.add(key)
    if (local.some(e => e.cid.equals(offer.version.cid) && e.state === 'complete')) continue
    try {
      const { manifest } = await requestManifest(ctx.libp2p, offer.peer, offer.version.cid, withTimeout(ctx.timeoutMs))
      verifyManifest(manifest, ctx.trust)
      if (manifest.createdAt < newestLocal && !local.some(e => e.cid.equals(offer.version.cid))) continue
      if (best === undefined || manifest.createdAt > best.createdAt) best = { ref: { name, version: manifest.version }, createdAt: manifest.createdAt }
    } catch (err) {
      ctx.log?.warn({ peer: offer.peer.toString(), err }, 'catch-up: manifest %s from %s refused: %s', key, offer.peer.toString(), (err as Error).message)
    }
  }
  return best?.ref
}
