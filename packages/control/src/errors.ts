import { CacheCloudError } from '@cachecloud/core'

export class DaemonUnreachableError extends CacheCloudError {
  static override name = 'DaemonUnreachableError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_DAEMON_UNREACHABLE', 'daemon', options) }
}

export class UnauthorizedError extends CacheCloudError {
  static override name = 'UnauthorizedError'
  constructor (message = 'control API token missing or wrong') { super(message, 'ERR_UNAUTHORIZED', 'unauthorized') }
}

export class BadRequestError extends CacheCloudError {
  static override name = 'BadRequestError'
  constructor (message: string) { super(message, 'ERR_BAD_REQUEST', 'usage') }
}

/** An error reported by the daemon, carrying its code and kind across the API (so the CLI exits as it would in-process). */
export class RemoteError extends CacheCloudError {
  static override name = 'RemoteError'
}

/** No route of the control API has that method and path. */
export class RouteNotFoundError extends CacheCloudError {
  static override name = 'RouteNotFoundError'
  constructor (message: string) { super(message, 'ERR_NO_SUCH_ROUTE', 'not-found') }
}

/** The node is paused: pulls neither run nor start until resume. */
export class PausedError extends CacheCloudError {
  static override name = 'PausedError'
  constructor (message = 'this CachePoint is paused (resume with: cachepoint resume)') { super(message, 'ERR_PAUSED', 'paused') }
}

/** A running pull was stopped by pause; resume or sync continues it from the blocks already stored. */
export class PullPausedError extends CacheCloudError {
  static override name = 'PullPausedError'
  constructor (message: string) { super(message, 'ERR_PULL_PAUSED', 'paused') }
}

/** A request body not declared `application/json` (a form post, text/plain): refused before it is read. */
export class UnsupportedMediaTypeError extends CacheCloudError {
  static override name = 'UnsupportedMediaTypeError'
  constructor (message: string) { super(message, 'ERR_UNSUPPORTED_MEDIA_TYPE', 'unsupported-media-type') }
}

/** The Host header is not a loopback name with the API's port (DNS rebinding). */
export class ControlWrongHostError extends CacheCloudError {
  static override name = 'ControlWrongHostError'
  constructor (message: string) { super(message, 'ERR_CONTROL_WRONG_HOST', 'wrong-host') }
}
