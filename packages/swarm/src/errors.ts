import { CacheCloudError } from '@cachecloud/core'

/** A wan.maxRate or schedule entry is malformed. */
export class InvalidRateError extends CacheCloudError {
  static override name = 'InvalidRateError'
  constructor (message: string) { super(message, 'ERR_INVALID_RATE', 'usage') }
}

/** No reachable peer offers the version (or its manifest). */
export class SwarmVersionUnavailableError extends CacheCloudError {
  static override name = 'SwarmVersionUnavailableError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_SWARM_VERSION_UNAVAILABLE', 'not-found', options) }
}

/** The swarm pull stopped before every block was stored. */
export class SwarmPullFailedError extends CacheCloudError {
  static override name = 'SwarmPullFailedError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_SWARM_PULL_FAILED', 'network', options) }
}

/** An announcement, have, sizes or rollout message from a peer is malformed: a protocol failure, not bad usage. */
export class InvalidSwarmMessageError extends CacheCloudError {
  static override name = 'InvalidSwarmMessageError'
  constructor (message: string) { super(message, 'ERR_INVALID_SWARM_MESSAGE', 'network') }
}

/** The swarm is paused: its pulls stopped (what they stored stays) and none starts until resume. */
export class SwarmPausedError extends CacheCloudError {
  static override name = 'SwarmPausedError'
  constructor (message: string) { super(message, 'ERR_SWARM_PAUSED', 'paused') }
}

/** An announcement without a publisher's signature (message version 1): ignored, nothing is pulled for it. */
export class UnsignedAnnouncementError extends CacheCloudError {
  static override name = 'UnsignedAnnouncementError'
  constructor (message: string) { super(message, 'ERR_ANNOUNCEMENT_UNSIGNED', 'integrity') }
}

/** An announcement signed too long ago (a replay) or dated in the future: ignored. */
export class StaleAnnouncementError extends CacheCloudError {
  static override name = 'StaleAnnouncementError'
  constructor (message: string) { super(message, 'ERR_ANNOUNCEMENT_STALE', 'integrity') }
}

/** This node has no publisher key to sign an announcement with. */
export class NoPublisherKeyError extends CacheCloudError {
  static override name = 'NoPublisherKeyError'
  constructor (message: string) { super(message, 'ERR_NO_PUBLISHER_KEY', 'config') }
}
