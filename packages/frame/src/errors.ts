import { CacheCloudError } from '@cachecloud/core'

/** A peer announced a frame longer than the protocol allows (refused before any of it is buffered). */
export class FrameTooLargeError extends CacheCloudError {
  static override name = 'FrameTooLargeError'
  constructor (message: string) { super(message, 'ERR_FRAME_TOO_LARGE', 'network') }
}

/** A stream ended inside a frame. */
export class StreamTruncatedError extends CacheCloudError {
  static override name = 'StreamTruncatedError'
  constructor (message: string) { super(message, 'ERR_STREAM_TRUNCATED', 'network') }
}

/** A varint from a peer is not minimal or longer than MAX_VARINT_BYTES: a protocol failure. */
export class InvalidVarintError extends CacheCloudError {
  static override name = 'InvalidVarintError'
  constructor (message: string) { super(message, 'ERR_INVALID_VARINT', 'network') }
}
