import { CacheCloudError } from '@cachecloud/core'

/** The Host header does not name this server (a rebound DNS name, or another site). */
export class WrongHostError extends CacheCloudError {
  static override name = 'WrongHostError'
  readonly status = 421
  constructor (message: string) { super(message, 'ERR_WRONG_HOST') }
}

/** A state-changing request that the page did not send: its Origin (or Sec-Fetch-Site) names another origin, or none. */
export class CrossOriginError extends CacheCloudError {
  static override name = 'CrossOriginError'
  readonly status = 403
  constructor (message: string) { super(message, 'ERR_UI_CROSS_ORIGIN') }
}

/** A request body that is not JSON (a form post, text/plain): the page sends none such. */
export class UiUnsupportedMediaTypeError extends CacheCloudError {
  static override name = 'UiUnsupportedMediaTypeError'
  readonly status = 415
  constructor (message: string) { super(message, 'ERR_UI_UNSUPPORTED_MEDIA_TYPE') }
}

/** Neither a file of the page nor a route the page uses. */
export class UiRouteNotFoundError extends CacheCloudError {
  static override name = 'UiRouteNotFoundError'
  readonly status = 404
  constructor (message: string) { super(message, 'ERR_UI_NO_SUCH_ROUTE') }
}
