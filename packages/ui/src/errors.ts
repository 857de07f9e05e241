import { CacheCloudError } from '@cachecloud/core'

/** The Host header does not name this server (a rebound DNS name, or another site). */
export class WrongHostError extends CacheCloudError {
  static override name = 'WrongHostError'
  constructor (message: string) { super(message, 'ERR_WRONG_HOST', 'wrong-host') }
}

/** A state-changing request that the page did not send: its Origin (or Sec-Fetch-Site) names another origin, or none. */
export class CrossOriginError extends CacheCloudError {
  static override name = 'CrossOriginError'
  constructor (message: string) { super(message, 'ERR_UI_CROSS_ORIGIN', 'forbidden') }
}

/** A request body that is not JSON (a form post, text/plain): the page sends none such. */
export class UiUnsupportedMediaTypeError extends CacheCloudError {
  static override name = 'UiUnsupportedMediaTypeError'
  constructor (message: string) { super(message, 'ERR_UI_UNSUPPORTED_MEDIA_TYPE', 'unsupported-media-type') }
}

/** Neither a file of the page nor a route the page uses. */
export class UiRouteNotFoundError extends CacheCloudError {
  static override name = 'UiRouteNotFoundError'
  constructor (message: string) { super(message, 'ERR_UI_NO_SUCH_ROUTE', 'not-found') }
}
