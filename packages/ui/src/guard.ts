import type { IncomingMessage } from 'node:http'
import { LOOPBACK_HOST_NAMES } from './constants.js'
import { CrossOriginError, UiUnsupportedMediaTypeError, WrongHostError } from './errors.js'

/**
 * Checks on each request to the UI server, before any work (see server.ts).
 *
 * Why Origin and not the cookie's SameSite: a page on 127.0.0.1 at any other
 * port is the same *site* as this server, so SameSite=Strict cookies go with
 * its form posts and no-cors fetches. Only the origin (scheme, host, port)
 * tells the page from such a neighbour, and browsers send it on every
 * non-GET request.
 */

const SAFE_METHODS = new Set(['GET', 'HEAD'])

/** The origin the request was addressed to (`http://HOST:PORT`): a loopback name and this server's port, or WrongHostError. */
export function requestOrigin (request: IncomingMessage, port: number): string {
  const host = request.headers.host ?? ''
  if (!LOOPBACK_HOST_NAMES.some(name => host === `${name}:${port}`)) {
    throw new WrongHostError(`this server answers only as http://127.0.0.1:${port} (Host was ${JSON.stringify(host.slice(0, 100))})`)
  }
  return `http://${host}`
}

/**
 * The page's own request, or CrossOriginError: Sec-Fetch-Site, where the
 * browser sends it, must be same-origin; a state-changing request must carry
 * an Origin equal to `origin` (a request without one is not from the page).
 */
export function assertSameOrigin (request: IncomingMessage, origin: string): void {
  const site = request.headers['sec-fetch-site']
  if (site !== undefined && site !== 'same-origin') throw new CrossOriginError(`refused a ${site} request: only the status page itself may call this server`)
  if (SAFE_METHODS.has(request.method ?? 'GET')) return
  const from = request.headers.origin
  if (from !== origin) throw new CrossOriginError(`refused a ${request.method ?? ''} request from origin ${JSON.stringify((from ?? 'none').slice(0, 100))}: only ${origin} may change anything`)
}

/** True when the request has a body (a length above zero, or chunked). */
export function hasBody (request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true
  const length = request.headers['content-length']
  return length !== undefined && length !== '0'
}

/** A body, if any, must be declared JSON: forms and text/plain (what a page may send to another origin without asking) are refused. */
export function assertJsonBody (request: IncomingMessage): void {
  if (!hasBody(request)) return
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') throw new UiUnsupportedMediaTypeError(`request bodies must be application/json, not ${JSON.stringify(type === '' ? 'none' : type)}`)
}
