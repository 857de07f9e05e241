import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { CID } from 'multiformats/cid'
import { parseVersionRef, type VersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import { verifyManifest, type TrustStore } from '@cachecloud/manifest'
import { requestManifest, withTimeout } from '@cachecloud/transfer'
import { ANNOUNCE_TOPIC_PREFIX, ANNOUNCEMENT_VERSION, MAX_ANNOUNCE_BYTES } from './constants.js'
import { InvalidSwarmMessageError } from './errors.js'
import { askCatalogs } from './offers.js'

/** A published version: NAME@VERSION and its manifest CID (the manifest's signature is checked on fetch). */
export interface Announcement { ref: VersionRef, cid: CID }

export function announceTopic (name: string): string { return ANNOUNCE_TOPIC_PREFIX + name }

/** The image name of an announcement topic, or undefined for another topic. */
export function topicImage (topic: string): string | undefined {
  return topic.startsWith(ANNOUNCE_TOPIC_PREFIX) ? topic.slice(ANNOUNCE_TOPIC_PREFIX.length) : undefined
}

/**
 * An announcement as it arrived, not yet checked: version 1 (unsigned, before 2026-12) or
 * version 2, signed by a publisher key (docs/formats/protocols.md, "Announcements").
 */
export type WireAnnouncement =
  | Announcement & { v: 1 }
  | Announcement & { v: 2, publisher: string, at: string, sig: string }

const str = (value: unknown, what: string, max: number): string => {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) throw new Error(`${what} must be a string of 1-${max} characters`)
  return value
}

/** Parses UTF-8 JSON of at most MAX_ANNOUNCE_BYTES; checks shapes only (announce-signing.ts checks the signature). */
export function decodeAnnouncement (bytes: Uint8Array): WireAnnouncement {
  if (bytes.byteLength > MAX_ANNOUNCE_BYTES) throw new InvalidSwarmMessageError(`announcement of ${bytes.byteLength} bytes (at most ${MAX_ANNOUNCE_BYTES})`)
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Record<string, unknown>
    if (typeof value !== 'object' || value === null) throw new Error('not a JSON object')
    const base = { ref: parseVersionRef(str(value.ref, 'ref', 300)), cid: CID.parse(str(value.cid, 'cid', 200)) }
    if (value.v === undefined) return { v: 1, ...base }
    if (value.v !== ANNOUNCEMENT_VERSION) throw new Error(`unknown announcement version ${JSON.stringify(value.v)}`)
    return { v: 2, ...base, publisher: str(value.publisher, 'publisher', 100), at: str(value.at, 'at', 40), sig: str(value.sig, 'sig', 200) }
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
