import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { httpStatusOf, isCacheCloudError, kindOf, type ProgressEvent } from '@cachecloud/core'
import type { CachePointApi, ChangeSource, ErrorBody, PersonalApi, ProgressSink, StreamLine, SwarmApi } from './api.js'
import { API_PREFIX, INTERNAL_ERROR_CODE, MAX_REQUEST_BYTES, PROGRESS_INTERVAL_MS } from './constants.js'
import { BadRequestError, ControlWrongHostError, RouteNotFoundError, UnauthorizedError, UnsupportedMediaTypeError } from './errors.js'
import { serveEvents } from './events.js'
import type { ExportsApi } from './exports-api.js'
import { addExportRoutes } from './exports-routes.js'
import type { LifecycleApi } from './lifecycle-api.js'
import { addLifecycleRoutes } from './lifecycle-routes.js'
import * as validate from './validate.js'

/** Structured logger shape (pino's), so this package does not depend on pino. */
export interface ControlLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

export interface ControlServerInit {
  api: CachePointApi
  /** Tells GET /v1/events when to send a new snapshot; without it the route is absent. */
  changes?: ChangeSource
  token: string
  /** Loopback only: the API is local by design. Default 127.0.0.1. */
  host?: string
  /** 0 lets the OS choose. */
  port?: number
  logger?: ControlLogger
}

export interface ControlServer {
  start(): Promise<{ url: string }>
  stop(): Promise<void>
}

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>

/**
 * The error half of an answer: the API's callers (CLI, tray) branch on the code and
 * exit by the kind (core's table, which also gives the HTTP status), people read the message.
 */
function errorBody (err: unknown): ErrorBody {
  const code = isCacheCloudError(err) ? err.code : INTERNAL_ERROR_CODE
  return { code, kind: kindOf(err), message: err instanceof Error ? err.message : String(err) }
}

/** True when the request has a body (a length above zero, or chunked). */
function hasBody (request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true
  const length = request.headers['content-length']
  return length !== undefined && length !== '0'
}

/**
 * Every body must be declared JSON. A web page may send text/plain or a form
 * to any origin without a CORS preflight, but not application/json: so this
 * check keeps a page from driving the API through anything that adds the token.
 */
function assertJson (request: IncomingMessage): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') throw new UnsupportedMediaTypeError(`request bodies must be application/json, not ${JSON.stringify(type === '' ? 'none' : type.slice(0, 100))}`)
}

/** The Host must be a loopback name with this server's port: a DNS name rebound to 127.0.0.1 is refused. */
function assertLoopbackHost (request: IncomingMessage, port: number): void {
  const host = request.headers.host ?? ''
  if (!['127.0.0.1', 'localhost', '[::1]'].some(name => host === `${name}:${port}`)) {
    throw new ControlWrongHostError(`the control API answers only as 127.0.0.1:${port} (Host was ${JSON.stringify(host.slice(0, 100))})`)
  }
}

async function readJson (request: IncomingMessage): Promise<unknown> {
  assertJson(request)
  const chunks: Buffer[] = []
  let length = 0
  for await (const chunk of request as AsyncIterable<Buffer>) {
    length += chunk.byteLength
    if (length > MAX_REQUEST_BYTES) throw new BadRequestError(`request body exceeds ${MAX_REQUEST_BYTES} bytes`)
    chunks.push(chunk)
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new BadRequestError('request body is not valid JSON')
  }
}

function sendJson (response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

/** Streams progress lines (throttled, last one always sent) and then the result or the error, as NDJSON. */
async function stream<T> (response: ServerResponse, run: (onProgress: ProgressSink) => Promise<T>): Promise<void> {
  response.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
  const write = (line: StreamLine<T>): void => { if (!response.destroyed) response.write(JSON.stringify(line) + '\n') }
  let last = 0
  let pending: ProgressEvent | undefined
  const onProgress: ProgressSink = (event) => {
    const now = Date.now()
    if (now - last >= PROGRESS_INTERVAL_MS) {
      last = now
      pending = undefined
      write({ progress: event })
    } else {
      pending = event
    }
  }
  try {
    const result = await run(onProgress)
    if (pending !== undefined) write({ progress: pending })
    write({ result })
  } catch (err) {
    write({ error: errorBody(err) })
  }
  response.end()
}

function routes (api: CachePointApi, changes?: ChangeSource): Map<string, Handler> {
  const table = new Map<string, Handler>([
    ['GET /status', async (_req, res) => { sendJson(res, 200, await api.status()) }],
    ['GET /images', async (_req, res) => { sendJson(res, 200, await api.images()) }],
    ['GET /peers', async (_req, res) => { sendJson(res, 200, await api.peers()) }],
    ['POST /gc', async (_req, res) => { sendJson(res, 200, await api.gc()) }],
    ['GET /images/diff', async (_req, res, url) => {
      const from = url.searchParams.get('from')
      const to = url.searchParams.get('to')
      if (from === null || to === null) throw new BadRequestError('diff needs ?from=NAME@VERSION&to=NAME@VERSION')
      sendJson(res, 200, await api.diff(from, to))
    }],
    ['POST /images/import', async (req, res) => {
      const body = validate.importRequest(await readJson(req))
      await stream(res, async (onProgress) => api.importImage(body, onProgress))
    }],
    ['POST /images/pull', async (req, res) => {
      const body = validate.pullRequest(await readJson(req))
      await stream(res, async (onProgress) => api.pull(body, onProgress))
    }],
    ['POST /images/export', async (req, res) => {
      const body = validate.exportRequest(await readJson(req))
      await stream(res, async (onProgress) => api.exportImage(body, onProgress))
    }],
    ['POST /pause', async (_req, res) => { sendJson(res, 200, await api.pause()) }],
    ['POST /resume', async (_req, res) => { sendJson(res, 200, await api.resume()) }],
    ['POST /sync', async (_req, res) => { sendJson(res, 200, await api.sync()) }]
  ])
  if (changes !== undefined) table.set('GET /events', async (req, res) => { await serveEvents(req, res, changes) })
  addSwarmRoutes(table, api as CachePointApi & Partial<SwarmApi>)
  addPersonalRoutes(table, api as CachePointApi & Partial<PersonalApi>)
  addExportRoutes(table, api as CachePointApi & Partial<ExportsApi>, { readJson, sendJson, stream })
  addLifecycleRoutes(table, api as CachePointApi & Partial<LifecycleApi>, { readJson, sendJson, stream })
  return table
}

/** Personal-folder routes (status, log, snapshot, restore), when the API offers them. */
function addPersonalRoutes (table: Map<string, Handler>, api: CachePointApi & Partial<PersonalApi>): void {
  const { personalStatus, personalLog, personalSnapshot, personalRestore } = api
  if (personalStatus === undefined || personalLog === undefined || personalSnapshot === undefined || personalRestore === undefined) return
  table.set('GET /personal', async (_req, res) => { sendJson(res, 200, await personalStatus.call(api)) })
  table.set('GET /personal/log', async (_req, res, url) => {
    const user = url.searchParams.get('user')
    if (user === null || user === '') throw new BadRequestError('log needs ?user=USER')
    sendJson(res, 200, await personalLog.call(api, user))
  })
  table.set('POST /personal/snapshot', async (req, res) => {
    sendJson(res, 200, await personalSnapshot.call(api, validate.personalSnapshotRequest(await readJson(req)).user))
  })
  table.set('POST /personal/restore', async (req, res) => {
    sendJson(res, 200, await personalRestore.call(api, validate.personalRestoreRequest(await readJson(req))))
  })
}

/** Swarm routes (publish, subscriptions, plan, swarm status), when the API offers them. */
function addSwarmRoutes (table: Map<string, Handler>, api: CachePointApi & Partial<SwarmApi>): void {
  const { publish, subscribe, unsubscribe, plan, swarmStatus } = api
  if (publish === undefined || subscribe === undefined || unsubscribe === undefined || plan === undefined || swarmStatus === undefined) return
  const field = (body: unknown, key: string): string => {
    const value = (body as Record<string, unknown> | null)?.[key]
    if (typeof value !== 'string' || value === '') throw new BadRequestError(`"${key}" must be a non-empty string`)
    return value
  }
  table.set('POST /images/publish', async (req, res) => { sendJson(res, 200, await publish.call(api, field(await readJson(req), 'ref'))) })
  table.set('POST /subscriptions', async (req, res) => {
    const body = await readJson(req)
    const policy = (body as { policy?: unknown }).policy ?? 'auto'
    if (policy !== 'auto' && policy !== 'manual') throw new BadRequestError('"policy" must be auto or manual')
    sendJson(res, 200, await subscribe.call(api, field(body, 'name'), policy))
  })
  table.set('POST /subscriptions/remove', async (req, res) => { sendJson(res, 200, await unsubscribe.call(api, field(await readJson(req), 'name'))) })
  table.set('GET /images/plan', async (_req, res, url) => {
    const ref = url.searchParams.get('ref')
    if (ref === null) throw new BadRequestError('plan needs ?ref=NAME@VERSION')
    sendJson(res, 200, await plan.call(api, ref))
  })
  table.set('GET /swarm', async (_req, res) => { sendJson(res, 200, await swarmStatus.call(api)) })
  const { rollout } = api
  if (rollout !== undefined) {
    table.set('GET /images/rollout', async (_req, res, url) => { sendJson(res, 200, await rollout.call(api, url.searchParams.get('ref') ?? undefined)) })
  }
}

function tokenMatches (header: string | undefined, token: Buffer): boolean {
  if (header === undefined || !header.startsWith('Bearer ')) return false
  const given = Buffer.from(header.slice('Bearer '.length))
  return given.byteLength === token.byteLength && timingSafeEqual(given, token)
}

export function createControlServer (init: ControlServerInit): ControlServer {
  const table = routes(init.api, init.changes)
  const token = Buffer.from(init.token)
  let server: Server | undefined
  let port = 0

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://localhost')
    try {
      assertLoopbackHost(request, port)
      if (!tokenMatches(request.headers.authorization, token)) throw new UnauthorizedError()
      if (hasBody(request)) assertJson(request)
      const path = url.pathname.startsWith(API_PREFIX) ? url.pathname.slice(API_PREFIX.length) : ''
      const handler = table.get(`${request.method ?? 'GET'} ${path}`)
      if (handler === undefined) throw new RouteNotFoundError(`no route ${request.method ?? ''} ${url.pathname.slice(0, 200)}`)
      await handler(request, response, url)
    } catch (err) {
      const body = errorBody(err)
      if (body.kind === 'internal') init.logger?.warn({ err, path: url.pathname }, 'control API request failed')
      if (!response.headersSent) sendJson(response, httpStatusOf(body.kind), { error: body })
      else response.end()
      request.resume() // drain a body left unread, so the answer is not held up
    }
  }

  return {
    async start () {
      server = createServer((request, response) => { void handle(request, response) })
      const s = server
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject)
        s.listen(init.port ?? 0, init.host ?? '127.0.0.1', () => { s.off('error', reject); resolve() })
      })
      const address = s.address() as AddressInfo
      port = address.port
      const url = `http://${address.address}:${address.port}`
      init.logger?.info({ url }, 'control API listening')
      return { url }
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
