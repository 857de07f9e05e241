import { randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { httpStatusOf, isCacheCloudError, kindOf, type ErrorKind } from '@cachecloud/core'
import { readEndpoint, UnauthorizedError } from '@cachecloud/control'
import { LAUNCH_KEY_PARAM, MAX_SESSION_BODY_BYTES, PROXIED_ROUTES, SESSION_COOKIE, SESSION_PATH, WEB_FILES } from './constants.js'
import { UiRouteNotFoundError, WrongHostError } from './errors.js'
import { assertJsonBody, assertSameOrigin, requestOrigin } from './guard.js'

export interface UiServerInit {
  /** Data directory of the CachePoint whose daemon the page shows (its control.json and control.token). */
  dataDir: string
  /** Loopback only. Default 127.0.0.1. */
  host?: string
  /** 0 lets the OS choose. */
  port?: number
  /** The built page (index.html, app.js, app.css). Default: this package's dist/web. */
  webRoot?: string
}

export interface UiServer {
  /** `url` is the server; `openUrl` carries the launch key in its fragment: open that one. */
  start(): Promise<{ url: string, openUrl: string }>
  stop(): Promise<void>
}

const TYPES: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml' }

const OPEN_HINT = 'run `cachepoint ui` and open the whole URL it prints, with its #key=...'
const NO_SESSION = `this page is not signed in (no key, or one from an earlier run of cachepoint ui): ${OPEN_HINT}`

/** An error body as the control API's (code, kind, message), its HTTP status from the kind (core's table; a wrong session is `unauthorized`, 401). */
function sendError (response: ServerResponse, kind: ErrorKind, code: string, message: string): void {
  if (response.headersSent) { response.end(); return }
  response.writeHead(httpStatusOf(kind), { 'content-type': 'application/json', 'cache-control': 'no-store' })
  response.end(JSON.stringify({ error: { code, kind, message } }))
}

function same (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.byteLength === y.byteLength && timingSafeEqual(x, y)
}

function cookie (request: IncomingMessage, name: string): string | undefined {
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [key, ...value] = part.trim().split('=')
    if (key === name) return value.join('=')
  }
  return undefined
}

/**
 * Serves the status page on loopback and proxies /v1/* to the daemon, adding
 * the daemon's bearer token: the token never reaches the browser.
 *
 * Why a proxy with a session cookie: a browser's EventSource cannot send an
 * Authorization header, and a token in a URL or in page storage leaks (history,
 * other local pages). So the server makes a random launch key and prints the
 * page's URL with the key in its fragment (`#key=...`, which browsers do not
 * send to servers nor to Referer). The page posts the key once to /session and
 * gets an HttpOnly, SameSite=Strict cookie; every /v1 request, the event stream
 * included, then carries that cookie. SameSite does not separate ports, so
 * a page served from another port of 127.0.0.1 would send the cookie too:
 * every request must therefore come from this server's own origin (guard.ts:
 * Origin on anything but GET, Sec-Fetch-Site where sent), bodies must be
 * JSON, the Host header must be a loopback name with this port (no DNS
 * rebinding), and only the routes the page uses are proxied (PROXIED_ROUTES).
 * Other local users cannot read the key unless they can read the launching
 * terminal. The proxy reads the daemon's endpoint on every request, so it
 * follows a restarted daemon (new port).
 */
export function createUiServer (init: UiServerInit): UiServer {
  const webRoot = init.webRoot ?? fileURLToPath(new URL('../web/', import.meta.url))
  const launchKey = randomBytes(24).toString('base64url')
  const sessions = new Set<string>()
  let server: Server | undefined
  let port = 0

  const serveFile = async (response: ServerResponse, name: string): Promise<void> => {
    let body: Buffer
    try {
      body = await readFile(join(webRoot, name))
    } catch {
      sendError(response, 'internal', 'ERR_UI_NOT_BUILT', `the status page is not built (${join(webRoot, name)} missing): run npm run build`)
      return
    }
    const type = TYPES[name.slice(name.lastIndexOf('.'))] ?? 'application/octet-stream'
    response.writeHead(200, {
      'content-type': type,
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer'
    })
    response.end(body)
  }

  const startSession = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let body = ''
    for await (const chunk of request as AsyncIterable<Buffer>) {
      body += chunk.toString('utf8')
      if (body.length > MAX_SESSION_BODY_BYTES) break
    }
    let key: unknown
    try { key = (JSON.parse(body) as Record<string, unknown>)[LAUNCH_KEY_PARAM] } catch { key = undefined }
    if (typeof key !== 'string' || !same(key, launchKey)) throw new UnauthorizedError(`wrong or missing launch key (from an earlier run of cachepoint ui?): ${OPEN_HINT}`)
    const session = randomBytes(24).toString('base64url')
    sessions.add(session)
    response.writeHead(204, { 'set-cookie': `${SESSION_COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`, 'cache-control': 'no-store' })
    response.end()
  }

  const proxy = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    let endpoint
    try {
      endpoint = await readEndpoint(init.dataDir)
    } catch (err) {
      sendError(response, 'daemon', 'ERR_DAEMON_UNREACHABLE', (err as Error).message)
      return
    }
    const target = new URL(request.url ?? '/', endpoint.url)
    const upstream = httpRequest(target, {
      method: request.method,
      headers: {
        authorization: `Bearer ${endpoint.token}`,
        ...(request.headers['content-type'] === undefined ? {} : { 'content-type': request.headers['content-type'] }),
        accept: request.headers.accept ?? '*/*'
      }
    })
    upstream.on('response', (answer) => {
      response.writeHead(answer.statusCode ?? 502, {
        'content-type': answer.headers['content-type'] ?? 'application/json',
        'cache-control': 'no-store'
      })
      answer.pipe(response)
    })
    upstream.on('error', (err) => { sendError(response, 'daemon', 'ERR_DAEMON_UNREACHABLE', `cannot reach the CachePoint daemon at ${endpoint.url}: ${err.message}`) })
    response.on('close', () => { upstream.destroy() })
    request.pipe(upstream)
  }

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const origin = requestOrigin(request, port)
    const url = new URL(request.url ?? '/', origin)
    const file = WEB_FILES[url.pathname]
    if (request.method === 'GET' && file !== undefined) { await serveFile(response, file); return }
    const route = `${request.method ?? 'GET'} ${url.pathname}`
    if (route !== `POST ${SESSION_PATH}` && !PROXIED_ROUTES.has(route)) throw new UiRouteNotFoundError(`no route ${route} (this server serves the status page and proxies only what it uses)`)
    assertSameOrigin(request, origin)
    assertJsonBody(request)
    if (route === `POST ${SESSION_PATH}`) { await startSession(request, response); return }
    const session = cookie(request, SESSION_COOKIE)
    if (session === undefined || !sessions.has(session)) throw new UnauthorizedError(NO_SESSION)
    await proxy(request, response)
  }

  return {
    async start () {
      const host = init.host ?? '127.0.0.1'
      if (!['127.0.0.1', '::1', 'localhost'].includes(host)) throw new WrongHostError(`the UI server listens on loopback only, not ${host}`)
      server = createServer((request, response) => {
        handle(request, response).catch((err: unknown) => {
          const code = isCacheCloudError(err) ? err.code : 'ERR_INTERNAL'
          sendError(response, kindOf(err), code, err instanceof Error ? err.message : String(err))
          request.resume() // an unread body must not keep the connection waiting
        })
      })
      const s = server
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.listen(init.port ?? 0, host, () => { s.off('error', reject); resolve() })
      })
      const address = s.address() as AddressInfo
      port = address.port
      const origin = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${port}`
      return { url: origin, openUrl: `${origin}/#${LAUNCH_KEY_PARAM}=${launchKey}` }
    },
    async stop () {
      const s = server
      if (s === undefined) return
      server = undefined
      s.closeAllConnections()
      await new Promise<void>((resolve) => { s.close(() => { resolve() }) })
    }
  }
}
