import { sign, verify } from 'node:crypto'
import { formatVersionRef } from '@cachecloud/core'
import { formatPublicKey, InvalidSignatureError, parsePublicKey, publicKeyObject, UntrustedPublisherError, type PublisherKey, type TrustStore } from '@cachecloud/manifest'
import { decodeAnnouncement, type Announcement } from './announce.js'
import { ANNOUNCEMENT_MAX_AGE_MS, ANNOUNCEMENT_MAX_SKEW_MS, ANNOUNCEMENT_SIGNING_DOMAIN, ANNOUNCEMENT_VERSION } from './constants.js'
import { InvalidSwarmMessageError, StaleAnnouncementError, UnsignedAnnouncementError } from './errors.js'

/**
 * Signed announcements (message version 2, docs/formats/protocols.md): the
 * publisher's ed25519 key, the one that signs its manifests, signs the ref,
 * the manifest CID, its own public key and the time. A subscriber checks all
 * of it against its trusted publishers before it starts anything, so that an
 * announcement anyone can send on the topic no longer starts a pull.
 */

/** An announcement whose signature checked out. */
export interface SignedAnnouncement extends Announcement {
  /** `ed25519:...`, one of the trusted publishers. */
  publisher: string
  /** When the publisher signed it (ISO 8601). */
  at: string
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?Z$/

/** The bytes a signature covers: a JSON array (unambiguous), led by the signing domain. */
function signingBytes (ref: string, cid: string, publisher: string, at: string): Uint8Array {
  return new TextEncoder().encode(JSON.stringify([ANNOUNCEMENT_SIGNING_DOMAIN, ref, cid, publisher, at]))
}

/** UTF-8 JSON `{"v":2,"ref","cid","publisher","at","sig"}`, signed with `key`. */
export function encodeSignedAnnouncement (a: Announcement, key: PublisherKey, now: Date = new Date()): Uint8Array {
  const ref = formatVersionRef(a.ref)
  const cid = a.cid.toString()
  const publisher = formatPublicKey(key.publicKey)
  const at = now.toISOString()
  const sig = Buffer.from(sign(null, signingBytes(ref, cid, publisher, at), key.privateKey)).toString('base64url')
  return new TextEncoder().encode(JSON.stringify({ v: ANNOUNCEMENT_VERSION, ref, cid, publisher, at, sig }))
}

export interface VerifyAnnouncementOptions {
  /** The image of the topic it arrived on: an announcement of another image is refused. */
  topicImage: string
  trust: TrustStore
  now?: number
}

/**
 * The announcement, or an error, cheapest checks first: size and shape
 * (InvalidSwarmMessageError), version 1 without a signature
 * (UnsignedAnnouncementError), the topic's image, a publisher not trusted
 * (UntrustedPublisherError), the signature (InvalidSignatureError), then its
 * time (StaleAnnouncementError: a replay of an old one, or a clock far ahead).
 */
export function verifyAnnouncement (bytes: Uint8Array, options: VerifyAnnouncementOptions): SignedAnnouncement {
  const a = decodeAnnouncement(bytes)
  const ref = formatVersionRef(a.ref)
  if (a.v === 1) throw new UnsignedAnnouncementError(`unsigned announcement of ${ref} (message version 1) ignored: only announcements signed by a trusted publisher start a pull`)
  if (a.ref.name !== options.topicImage) throw new InvalidSwarmMessageError(`announcement of ${ref} on the topic of ${options.topicImage}`)
  let publisherKey: Uint8Array
  try { publisherKey = parsePublicKey(a.publisher) } catch (err) { throw new InvalidSwarmMessageError(`bad announcement: ${(err as Error).message}`) }
  if (!options.trust.isTrusted(publisherKey)) throw new UntrustedPublisherError(`announcement of ${ref} is signed by ${a.publisher}, which is not a trusted publisher`)
  if (!ISO_TIME.test(a.at) || Number.isNaN(Date.parse(a.at))) throw new InvalidSwarmMessageError(`bad announcement: time ${JSON.stringify(a.at)} is not ISO 8601 UTC`)
  const signature = Buffer.from(a.sig, 'base64url')
  const ok = signature.byteLength === 64 && verify(null, signingBytes(ref, a.cid.toString(), a.publisher, a.at), publicKeyObject(publisherKey), signature)
  if (!ok) throw new InvalidSignatureError(`announcement of ${ref} has an invalid signature for ${a.publisher} (forged or altered)`)
  const age = (options.now ?? Date.now()) - Date.parse(a.at)
  if (age > ANNOUNCEMENT_MAX_AGE_MS) throw new StaleAnnouncementError(`announcement of ${ref} was signed at ${a.at}, more than ${ANNOUNCEMENT_MAX_AGE_MS / 3_600_000} h ago (a replay?)`)
  if (age < -ANNOUNCEMENT_MAX_SKEW_MS) throw new StaleAnnouncementError(`announcement of ${ref} is dated ${a.at}, in the future (check the clocks)`)
  return { ref: a.ref, cid: a.cid, publisher: a.publisher, at: a.at }
}
