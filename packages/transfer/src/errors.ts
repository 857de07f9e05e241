import { CacheCloudError } from '@cachecloud/core'

/** A block-protocol message from a peer is malformed (bad type, truncated, trailing bytes, bad CID): a protocol failure, not bad usage. */
export class InvalidMessageError extends CacheCloudError {
  static override name = 'InvalidMessageError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_MESSAGE', 'network', options) }
}

/** A peer broke the protocol (wrong bytes, unrequested CIDs, oversized frames, garbage, silence); its stream was reset. */
export class PeerMisbehavedError extends CacheCloudError {
  static override name = 'PeerMisbehavedError'
  readonly peer: string
  constructor (peer: string, message: string, options?: ErrorOptions) {
    super(`peer ${peer} misbehaved: ${message}`, 'ERR_PEER_MISBEHAVED', 'network', options)
    this.peer = peer
  }
}

/** A block session ended before its blocks arrived, without a protocol violation (stream closed, connection lost): worth another session. */
export class SessionInterruptedError extends CacheCloudError {
  static override name = 'SessionInterruptedError'
  readonly peer: string
  constructor (peer: string, message: string, options?: ErrorOptions) {
    super(`block exchange with ${peer} interrupted: ${message}`, 'ERR_SESSION_INTERRUPTED', 'network', options)
    this.peer = peer
  }
}

/** None of the given peers holds the requested version (or its manifest). */
export class VersionUnavailableError extends CacheCloudError {
  static override name = 'VersionUnavailableError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_VERSION_UNAVAILABLE', 'not-found', options) }
}

/** A pull could not fetch every block from the peers it was given. */
export class PullFailedError extends CacheCloudError {
  static override name = 'PullFailedError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_PULL_FAILED', 'network', options) }
}
