import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ProgressSink } from './api.js'
import type { CheckRequest, LifecycleApi, PruneRequest, RemoveRequest } from './lifecycle-api.js'
import { BadRequestError } from './errors.js'

type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>
interface Io {
  readJson: (request: IncomingMessage) => Promise<unknown>
  sendJson: (response: ServerResponse, status: number, body: unknown) => void
  stream: <T>(response: ServerResponse, run: (onProgress: ProgressSink) => Promise<T>) => Promise<void>
}

const MAX_REF_CHARS = 300
const MAX_PEERS = 64

function object (body: unknown): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('request body must be a JSON object')
  return body as Record<string, unknown>
}

function flag (b: Record<string, unknown>, key: string): boolean | undefined {
  if (b[key] !== undefined && typeof b[key] !== 'boolean') throw new BadRequestError(`"${key}" must be true or false`)
  return b[key] as boolean | undefined
}

function ref (b: Record<string, unknown>, key: string): string {
  const value = b[key]
  if (typeof value !== 'string' || value === '' || value.length > MAX_REF_CHARS) throw new BadRequestError(`"${key}" must be NAME@VERSION`)
  return value
}

export function removeRequest (input: unknown): RemoveRequest {
  const b = object(input)
  return { ref: ref(b, 'ref'), force: flag(b, 'force') }
}

export function pruneRequest (input: unknown): PruneRequest {
  const b = object(input)
  if (b.name !== undefined && (typeof b.name !== 'string' || b.name === '' || b.name.length > MAX_REF_CHARS)) throw new BadRequestError('"name" must be an image name')
  return { dryRun: flag(b, 'dryRun'), name: b.name as string | undefined }
}

export function checkRequest (input: unknown): CheckRequest {
  const b = object(input)
  const subset = b.readDataSubset
  if (subset !== undefined && (typeof subset !== 'string' || subset.length > 32)) throw new BadRequestError('"readDataSubset" must be N/T or P%')
  const from = b.from
  if (from !== undefined && (!Array.isArray(from) || from.length > MAX_PEERS || !from.every(s => typeof s === 'string' && s.length <= 1000))) throw new BadRequestError(`"from" must be a list of at most ${MAX_PEERS} multiaddrs`)
  return { readData: flag(b, 'readData'), readDataSubset: subset as string | undefined, repair: flag(b, 'repair'), from: from as string[] | undefined }
}

/** Version lifecycle and check routes, when the API offers them. */
export function addLifecycleRoutes (table: Map<string, Handler>, api: Partial<LifecycleApi>, io: Io): void {
  const { removeVersion, prune, check } = api
  if (removeVersion === undefined || prune === undefined || check === undefined) return
  table.set('POST /images/rm', async (req, res) => { io.sendJson(res, 200, await removeVersion.call(api, removeRequest(await io.readJson(req)))) })
  table.set('POST /images/prune', async (req, res) => { io.sendJson(res, 200, await prune.call(api, pruneRequest(await io.readJson(req)))) })
  table.set('POST /check', async (req, res) => {
    const body = checkRequest(await io.readJson(req))
    await io.stream(res, async (onProgress) => await check.call(api, body, onProgress))
  })
}
