/** The HTTP pieces every subsystem's routes share: JSON bodies in and out, streamed progress, error bodies. */
import type { IncomingMessage, ServerResponse } from 'node:http'
import { isCacheCloudError, kindOf, type ProgressEvent } from '@cachecloud/core'
import type { ErrorBody, ProgressSink, StreamLine } from './api.js'
import { INTERNAL_ERROR_CODE, MAX_REQUEST_BYTES, PROGRESS_INTERVAL_MS } from './constants.js'
import { BadRequestError, UnsupportedMediaTypeError } from './errors.js'

export type Handler = (request: IncomingMessage, response: ServerResponse, url: URL) => Promise<void>

/** Routes by `METHOD /path` (the path after /v1). */
export type RouteTable = Map<string, Handler>

/**
 * The error half of an answer: the API's callers (CLI, tray) branch on the code and
 * exit by the kind (core's table, which also gives the HTTP status), people read the message.
 */
export function errorBody (err: unknown): ErrorBody {
  const code = isCacheCloudError(err) ? err.code : INTERNAL_ERROR_CODE
  return { code, kind: kindOf(err), message: err instanceof Error ? err.message : String(err) }
}

/**
 * Every body must be declared JSON. A web page may send text/plain or a form
 * to any origin without a CORS preflight, but not application/json: so this
 * check keeps a page from driving the API through anything that adds the token.
 */
export function assertJson (request: IncomingMessage): void {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase()
  if (type !== 'application/json') throw new UnsupportedMediaTypeError(`request bodies must be application/json, not ${JSON.stringify(type === '' ? 'none' : type.slice(0, 100))}`)
}

/** The body as JSON, at most MAX_REQUEST_BYTES. */
export async function readJson (request: IncomingMessage): Promise<unknown> {
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

export function sendJson (response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' })
  response.end(JSON.stringify(body))
}

/** Streams progress lines (throttled, last one always sent) and then the result or the error, as NDJSON. */
export async function stream<T> (response: ServerResponse, run: (onProgress: ProgressSink) => Promise<T>): Promise<void> {
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

/** A GET route's query parameter, required. */
export function query (url: URL, key: string, usage: string): string {
  const value = url.searchParams.get(key)
  if (value === null) throw new BadRequestError(usage)
  return value
}
