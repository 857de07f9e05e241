import type { CommitOverlayRequest, ExportsApi, RebaseOverlayRequest, ServeRequest } from './exports-api.js'
import { BadRequestError } from './errors.js'
import { readJson, sendJson, stream, type RouteTable } from './http.js'
import { field } from './validate.js'

/** Most writable exports of one pool. */
const MAX_POOL = 1000
const POOL_PREFIX = /^[A-Za-z0-9][A-Za-z0-9._-]{0,55}$/

function poolOf (value: unknown): ServeRequest['pool'] {
  if (value === undefined) return undefined
  const p = value as Record<string, unknown> | null
  if (p === null || typeof p !== 'object') throw new BadRequestError('"pool" must be {count, prefix}')
  if (typeof p.count !== 'number' || !Number.isInteger(p.count) || p.count < 1 || p.count > MAX_POOL) throw new BadRequestError(`"pool.count" must be an integer from 1 to ${MAX_POOL}`)
  if (typeof p.prefix !== 'string' || !POOL_PREFIX.test(p.prefix)) throw new BadRequestError('"pool.prefix" must be letters, digits, ".", "_" or "-" (at most 56, not starting with a punctuation mark)')
  return { count: p.count, prefix: p.prefix }
}

function serveRequest (body: unknown): ServeRequest {
  const b = (body ?? {}) as Record<string, unknown>
  if (typeof b.ref !== 'string' || b.ref === '') throw new BadRequestError('"ref" must be NAME@VERSION')
  if (b.port !== undefined && (typeof b.port !== 'number' || !Number.isInteger(b.port) || b.port < 0 || b.port > 65535)) throw new BadRequestError('"port" must be an integer in 0-65535')
  if (b.host !== undefined && typeof b.host !== 'string') throw new BadRequestError('"host" must be a string')
  if (b.host !== undefined && b.port === undefined) throw new BadRequestError('"host" needs "port" (TCP); without both the export is served on a Unix socket')
  if (b.overlay !== undefined && typeof b.overlay !== 'string') throw new BadRequestError('"overlay" must be a string')
  if (b.pull !== undefined && typeof b.pull !== 'boolean') throw new BadRequestError('"pull" must be true or false')
  if (b.fetchTimeoutMs !== undefined && (typeof b.fetchTimeoutMs !== 'number' || !(b.fetchTimeoutMs > 0) || b.fetchTimeoutMs > 3_600_000)) throw new BadRequestError('"fetchTimeoutMs" must be a number of milliseconds, at most one hour')
  const pool = poolOf(b.pool)
  if (pool !== undefined && b.overlay !== undefined) throw new BadRequestError('"pool" makes one overlay per export: not with "overlay"')
  return {
    ref: b.ref,
    port: b.port as number | undefined,
    host: b.host as string | undefined,
    overlay: b.overlay as string | undefined,
    pull: b.pull as boolean | undefined,
    fetchTimeoutMs: b.fetchTimeoutMs as number | undefined,
    ...(pool === undefined ? {} : { pool })
  }
}

function commitRequest (body: unknown): CommitOverlayRequest {
  const publish = (body as Record<string, unknown> | null)?.publish
  if (publish !== undefined && typeof publish !== 'boolean') throw new BadRequestError('"publish" must be true or false')
  return { name: field(body, 'name'), ref: field(body, 'ref'), ...(publish === undefined ? {} : { publish }) }
}

function rebaseRequest (body: unknown): RebaseOverlayRequest {
  const discard = (body as Record<string, unknown> | null)?.discardWrites
  if (discard !== true) throw new BadRequestError('a rebase drops the overlay\'s writes: "discardWrites" must be true (--discard-writes)')
  return { name: field(body, 'name'), ref: field(body, 'ref'), discardWrites: true }
}

/** The `exports` subsystem's routes: NBD exports and their overlays (serve, stop, commit, clone, rebase, discard). */
export function addExportRoutes (table: RouteTable, exports: ExportsApi): void {
  table.set('POST /overlays/commit', async (req, res) => {
    const body = commitRequest(await readJson(req))
    await stream(res, async (onProgress) => await exports.commitOverlay(body, onProgress))
  })
  table.set('POST /overlays/clone', async (req, res) => {
    const body = await readJson(req)
    sendJson(res, 200, await exports.cloneOverlay({ from: field(body, 'from'), name: field(body, 'name') }))
  })
  table.set('POST /overlays/rebase', async (req, res) => { sendJson(res, 200, await exports.rebaseOverlay(rebaseRequest(await readJson(req)))) })
  table.set('POST /exports', async (req, res) => { sendJson(res, 200, await exports.serve(serveRequest(await readJson(req)))) })
  table.set('GET /exports', async (_req, res) => { sendJson(res, 200, await exports.list()) })
  table.set('POST /exports/stop', async (req, res) => { sendJson(res, 200, await exports.unserve(field(await readJson(req), 'id'))) })
  table.set('GET /overlays', async (_req, res) => { sendJson(res, 200, await exports.overlays()) })
  table.set('POST /overlays/discard', async (req, res) => { sendJson(res, 200, await exports.discardOverlay(field(await readJson(req), 'name'))) })
}
