import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ExportsApi, ServeRequest } from './exports-api.js'
import { BadRequestError } from './errors.js'

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>
type Io = { readJson: (request: IncomingMessage) => Promise<unknown>, sendJson: (response: ServerResponse, status: number, body: unknown) => void }

function serveRequest (body: unknown): ServeRequest {
  const b = (body ?? {}) as Record<string, unknown>
  if (typeof b.ref !== 'string' || b.ref === '') throw new BadRequestError('"ref" must be NAME@VERSION')
  if (b.port !== undefined && (typeof b.port !== 'number' || !Number.isInteger(b.port) || b.port < 0 || b.port > 65535)) throw new BadRequestError('"port" must be an integer in 0-65535')
  if (b.host !== undefined && typeof b.host !== 'string') throw new BadRequestError('"host" must be a string')
  if (b.host !== undefined && b.port === undefined) throw new BadRequestError('"host" needs "port" (TCP); without both the export is served on a Unix socket')
  if (b.overlay !== undefined && typeof b.overlay !== 'string') throw new BadRequestError('"overlay" must be a string')
  if (b.pull !== undefined && typeof b.pull !== 'boolean') throw new BadRequestError('"pull" must be true or false')
  if (b.fetchTimeoutMs !== undefined && (typeof b.fetchTimeoutMs !== 'number' || !(b.fetchTimeoutMs > 0) || b.fetchTimeoutMs > 3_600_000)) throw new BadRequestError('"fetchTimeoutMs" must be a number of milliseconds, at most one hour')
  return { ref: b.ref, port: b.port as number | undefined, host: b.host as string | undefined, overlay: b.overlay as string | undefined, pull: b.pull as boolean | undefined, fetchTimeoutMs: b.fetchTimeoutMs as number | undefined }
}

function field (body: unknown, key: string): string {
  const value = (body as Record<string, unknown> | null)?.[key]
  if (typeof value !== 'string' || value === '') throw new BadRequestError(`"${key}" must be a non-empty string`)
  return value
}

/** NBD export and overlay routes, when the API offers them. */
export function addExportRoutes (table: Map<string, Handler>, api: Partial<ExportsApi>, io: Io): void {
  const { serve, exports, unserve, overlays, discardOverlay } = api
  if (serve === undefined || exports === undefined || unserve === undefined || overlays === undefined || discardOverlay === undefined) return
  table.set('POST /exports', async (req, res) => { io.sendJson(res, 200, await serve.call(api, serveRequest(await io.readJson(req)))) })
  table.set('GET /exports', async (_req, res) => { io.sendJson(res, 200, await exports.call(api)) })
  table.set('POST /exports/stop', async (req, res) => { io.sendJson(res, 200, await unserve.call(api, field(await io.readJson(req), 'id'))) })
  table.set('GET /overlays', async (_req, res) => { io.sendJson(res, 200, await overlays.call(api)) })
  table.set('POST /overlays/discard', async (req, res) => { io.sendJson(res, 200, await discardOverlay.call(api, field(await io.readJson(req), 'name'))) })
}
