import { TopicValidatorResult } from '@libp2p/gossipsub'
import type { PeerId } from '@libp2p/interface'
import type { Logger } from 'pino'
import { UntrustedPublisherError, type TrustStore } from '@cachecloud/manifest'
import type { PubSubMessage } from '@cachecloud/network'
import { topicImage } from './announce.js'
import { verifyAnnouncement, type SignedAnnouncement } from './announce-signing.js'
import { ANNOUNCEMENT_WARN_INTERVAL_MS } from './constants.js'
import { StaleAnnouncementError, UnsignedAnnouncementError } from './errors.js'

/**
 * What an announcement goes through before the swarm acts on it: the
 * signature checks of announce-signing.ts, run as gossipsub's topic validator
 * (so a forgery is neither delivered nor relayed) and again on delivery, with
 * a log of what is dropped that a flood cannot turn into a log flood.
 */
export class AnnouncementGate {
  /** Last warn-level log of a dropped announcement, by sender. */
  private readonly warnedAt = new Map<string, number>()

  constructor (private readonly trust: TrustStore, private readonly logger?: Logger) {}

  /**
   * Gossipsub's check before a message is delivered here or relayed: a forged or malformed one
   * is rejected (not relayed; gossipsub lowers the score of the peer that sent it); one this node
   * does not act on by policy (unsigned, a publisher it does not trust, stale) is ignored: not
   * relayed, but an honest relay with another trust store is not punished.
   */
  readonly validate = (peer: PeerId, message: PubSubMessage): TopicValidatorResult => {
    const name = topicImage(message.topic)
    if (name === undefined) return TopicValidatorResult.Ignore
    const verdict = this.verdict(message, name, peer)
    if (verdict.announcement !== undefined) return TopicValidatorResult.Accept
    return verdict.byPolicy ? TopicValidatorResult.Ignore : TopicValidatorResult.Reject
  }

  /** The announcement if it holds for the topic's image `name`; else undefined, logged. */
  check (message: PubSubMessage, name: string): SignedAnnouncement | undefined {
    return this.verdict(message, name).announcement
  }

  /** `byPolicy`: refused for what this node accepts (unsigned, stale, untrusted), not for being malformed or forged. */
  private verdict (message: PubSubMessage, name: string, peer?: PeerId): { announcement?: SignedAnnouncement, byPolicy: boolean } {
    try {
      return { announcement: verifyAnnouncement(message.data, { topicImage: name, trust: this.trust }), byPolicy: false }
    } catch (err) {
      this.dropped(message.type === 'signed' ? message.from.toString() : peer?.toString() ?? 'unknown', message.topic, err as Error)
      return { byPolicy: err instanceof UnsignedAnnouncementError || err instanceof StaleAnnouncementError || err instanceof UntrustedPublisherError }
    }
  }

  /** Unsigned ones (older nodes) at debug, others at warn, at most once a minute per sender. */
  private dropped (from: string, topic: string, err: Error): void {
    if (this.logger === undefined) return
    const now = Date.now()
    const last = this.warnedAt.get(from)
    if (!(err instanceof UnsignedAnnouncementError) && (last === undefined || now - last >= ANNOUNCEMENT_WARN_INTERVAL_MS)) {
      if (this.warnedAt.size > 1024) this.warnedAt.clear()
      this.warnedAt.set(from, now)
      this.logger.warn({ err, from, topic }, 'ignored announcement from %s: %s', from, err.message)
    } else {
      this.logger.debug({ err, from, topic }, 'ignored announcement from %s: %s', from, err.message)
    }
  }
}
