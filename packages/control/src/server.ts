import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { httpStatusOf } from '@cachecloud/core'
import type { CachePointApi, ChangeSource } from './api.js'
import { API_PREFIX } from './constants.js'
import { ControlWrongHostError, RouteNotFoundError, UnauthorizedError } from './errors.js'
import { serveEvents } from './events.js'
import { addExportRoutes } from './exports-routes.js'
import { assertJson, errorBody, sendJson, type RouteTable } from './http.js'
import { addImageRoutes } from './images-routes.js'
import { addPersonalRoutes } from './personal-routes.js'
import { addSwarmRoutes } from './swarm-routes.js'

/** Structured logger shape (pino's), so this package does not depend on pino. */
export interface ControlLogger {
  info(obj: object, msg?: string): void
  warn(obj: object, msg?: string): void
}

export interface ControlServerInit {
  /** The node and its subsystems (images, swarm, exports, personal): each subsystem's routes call it. */
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

/** True when the request has a body (a length above zero, or chunked). */
function hasBody (request: IncomingMessage): boolean {
  if (request.headers['transfer-encoding'] !== undefined) return true
  const length = request.headers['content-length']
  return length !== undefined && length !== '0'
}

/** The Host must be a loopback name with this server's port: a DNS name rebound to 127.0.0.1 is refused. */
function assertLoopbackHost (request: IncomingMessage, port: number): void {
  const host = request.headers.host ?? ''
  if (!['127.0.0.1', 'localhost', '[::1]'].some(name => host === `${name}:${port}`)) {
    throw new ControlWrongHostError(`the control API answers only as 127.0.0.1:${port} (Host was ${JSON.stringify(host.slice(0, 100))})`)
  }
}

/** Every route: the node's own (status, peers, pause, resume, sync, events), then each subsystem's. */
function routes (api: CachePointApi, changes?: ChangeSource): RouteTable {
  const table: RouteTable = new Map([
    ['GET /status', async (_req, res) => { sendJson(res, 200, await api.status()) }],
    ['GET /peers', async (_req, res) => { sendJson(res, 200, await api.peers()) }],
    ['POST /pause', async (_req, res) => { sendJson(res, 200, await api.pause()) }],
    ['POST /resume', async (_req, res) => { sendJson(res, 200, await api.resume()) }],
    ['POST /sync', async (_req, res) => { sendJson(res, 200, await api.sync()) }]
  ])
  if (changes !== undefined) table.set('GET /events', async (req, res) => { await serveEvents(req, res, changes) })
  addImageRoutes(table, api.images)
  addSwarmRoutes(table, api.swarm)
  addExportRoutes(table, api.exports)
  addPersonalRoutes(table, api.personal)
  return table
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
