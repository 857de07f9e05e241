import { isErrorKind, type ProgressEvent } from '@cachecloud/core'
import type { CachePointApi, PauseResultInfo, PeerInfo, ProgressSink, StatusInfo, StreamLine, SyncResultInfo } from './api.js'
import { API_PREFIX, INTERNAL_ERROR_CODE, MAX_ERROR_MESSAGE_CHARS } from './constants.js'
import type { CommitResultInfo, ExportInfo, ExportsApi, OverlayInfo } from './exports-api.js'
import type { DiffInfo, ExportRequest, ExportResultInfo, GcResultInfo, ImagesApi, ImageVersionInfo, ImportRequest, ImportResultInfo, PullRequest, PullResultInfo } from './images-api.js'
import type { CheckResultInfo, PruneResultInfo, RemoveResultInfo } from './lifecycle-api.js'
import type { PersonalApi, PersonalRestoreResultInfo, PersonalSnapshotInfo, PersonalSnapshotResultInfo, PersonalStatusInfo } from './personal-api.js'
import type { SwarmApi } from './swarm-api.js'
import { DaemonUnreachableError, RemoteError } from './errors.js'
import { readEndpoint, type ControlEndpoint } from './endpoint.js'
import { parseEventStream, STATUS_EVENT } from './events.js'

/**
 * The daemon's API over HTTP, one flat call per route (what the CLI and the tray use):
 * each call is typed as the subsystem method it reaches, so the two cannot drift apart.
 */
export interface ControlClient {
  status: CachePointApi['status']
  peers: CachePointApi['peers']
  pause: CachePointApi['pause']
  resume: CachePointApi['resume']
  sync: CachePointApi['sync']
  images: ImagesApi['list']
  importImage: ImagesApi['import']
  pull: ImagesApi['pull']
  exportImage: ImagesApi['export']
  diff: ImagesApi['diff']
  gc: ImagesApi['gc']
  removeVersion: ImagesApi['remove']
  prune: ImagesApi['prune']
  check: ImagesApi['check']
  publish: SwarmApi['publish']
  subscribe: SwarmApi['subscribe']
  unsubscribe: SwarmApi['unsubscribe']
  plan: SwarmApi['plan']
  swarmStatus: SwarmApi['status']
  rollout: SwarmApi['rollout']
  serve: ExportsApi['serve']
  exports: ExportsApi['list']
  unserve: ExportsApi['unserve']
  overlays: ExportsApi['overlays']
  discardOverlay: ExportsApi['discardOverlay']
  commitOverlay: ExportsApi['commitOverlay']
  cloneOverlay: ExportsApi['cloneOverlay']
  rebaseOverlay: ExportsApi['rebaseOverlay']
  personalStatus: PersonalApi['status']
  personalLog: PersonalApi['log']
  personalSnapshot: PersonalApi['snapshot']
  personalRestore: PersonalApi['restore']
  /**
   * Follows GET /v1/events: calls `onStatus` with every snapshot until `signal`
   * aborts (resolves) or the stream ends or fails (rejects with DaemonUnreachableError).
   */
  watchStatus(onStatus: (status: StatusInfo) => void, options?: { signal?: AbortSignal }): Promise<void>
}

async function call (endpoint: ControlEndpoint, method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<Response> {
  try {
    return await fetch(`${endpoint.url}${API_PREFIX}${path}`, {
      method,
      headers: { authorization: `Bearer ${endpoint.token}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal
    })
  } catch (err) {
    signal?.throwIfAborted()
    throw new DaemonUnreachableError(`cannot reach the CachePoint daemon at ${endpoint.url}: ${(err as Error).message}`, { cause: err })
  }
}

/**
 * The daemon's error rebuilt on this side: its code and kind, so a CLI talking to
 * the daemon exits as it would have in-process. A body without a valid kind (an
 * older daemon, a proxy's page) is `internal`; a code or message out of bounds is cut.
 */
function remoteError (error: unknown, status: number): RemoteError {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { code?: unknown, kind?: unknown, message?: unknown }
  const code = typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{0,79}$/.test(e.code) ? e.code : INTERNAL_ERROR_CODE
  const kind = isErrorKind(e.kind) ? e.kind : 'internal'
  const message = typeof e.message === 'string' ? e.message.slice(0, MAX_ERROR_MESSAGE_CHARS) : `HTTP ${status}`
  return new RemoteError(message, code, kind)
}

async function json<T> (response: Response): Promise<T> {
  const body = await response.json() as T | { error?: unknown }
  if (!response.ok) throw remoteError((body as { error?: unknown }).error, response.status)
  return body as T
}

/** Reads an NDJSON stream: progress lines go to `onProgress`, the last line is the result or an error. */
async function streamed<T> (response: Response, onProgress: ProgressSink): Promise<T> {
  if (!response.ok || response.body === null) return json<T>(response)
  const decoder = new TextDecoder()
  let buffered = ''
  let outcome: StreamLine<T> | undefined
  const take = (line: string): void => {
    if (line.trim() === '') return
    const parsed = JSON.parse(line) as StreamLine<T>
    if ('progress' in parsed) onProgress(parsed.progress as ProgressEvent)
    else outcome = parsed
  }
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk, { stream: true })
    let newline: number
    while ((newline = buffered.indexOf('\n')) >= 0) {
      take(buffered.slice(0, newline))
      buffered = buffered.slice(newline + 1)
    }
  }
  take(buffered)
  if (outcome === undefined) throw new DaemonUnreachableError('the daemon closed the connection before the operation finished (see its log)')
  if ('error' in outcome) throw remoteError(outcome.error, response.status)
  if ('result' in outcome) return outcome.result
  throw new DaemonUnreachableError('unexpected reply from the daemon')
}

export function createControlClient (endpoint: ControlEndpoint): ControlClient {
  return {
    status: async () => json<StatusInfo>(await call(endpoint, 'GET', '/status')),
    images: async () => json<ImageVersionInfo[]>(await call(endpoint, 'GET', '/images')),
    peers: async () => json<PeerInfo[]>(await call(endpoint, 'GET', '/peers')),
    gc: async () => json<GcResultInfo>(await call(endpoint, 'POST', '/gc')),
    diff: async (from, to) => json<DiffInfo>(await call(endpoint, 'GET', `/images/diff?${new URLSearchParams({ from, to }).toString()}`)),
    importImage: async (request: ImportRequest, onProgress) => streamed<ImportResultInfo>(await call(endpoint, 'POST', '/images/import', request), onProgress),
    pull: async (request: PullRequest, onProgress) => streamed<PullResultInfo>(await call(endpoint, 'POST', '/images/pull', request), onProgress),
    exportImage: async (request: ExportRequest, onProgress) => streamed<ExportResultInfo>(await call(endpoint, 'POST', '/images/export', request), onProgress),
    pause: async () => json<PauseResultInfo>(await call(endpoint, 'POST', '/pause')),
    resume: async () => json<SyncResultInfo>(await call(endpoint, 'POST', '/resume')),
    sync: async () => json<SyncResultInfo>(await call(endpoint, 'POST', '/sync')),
    publish: async (ref) => json(await call(endpoint, 'POST', '/images/publish', { ref })),
    subscribe: async (name, policy) => json(await call(endpoint, 'POST', '/subscriptions', { name, policy })),
    unsubscribe: async (name) => json(await call(endpoint, 'POST', '/subscriptions/remove', { name })),
    plan: async (ref) => json(await call(endpoint, 'GET', `/images/plan?${new URLSearchParams({ ref }).toString()}`)),
    swarmStatus: async () => json(await call(endpoint, 'GET', '/swarm')),
    rollout: async (ref?: string) => json(await call(endpoint, 'GET', ref === undefined ? '/images/rollout' : `/images/rollout?${new URLSearchParams({ ref }).toString()}`)),
    personalStatus: async () => json<PersonalStatusInfo[]>(await call(endpoint, 'GET', '/personal')),
    personalLog: async (user) => json<PersonalSnapshotInfo[]>(await call(endpoint, 'GET', `/personal/log?${new URLSearchParams({ user }).toString()}`)),
    personalSnapshot: async (user) => json<PersonalSnapshotResultInfo>(await call(endpoint, 'POST', '/personal/snapshot', { user })),
    personalRestore: async (request) => json<PersonalRestoreResultInfo>(await call(endpoint, 'POST', '/personal/restore', request)),
    serve: async (request) => json<ExportInfo>(await call(endpoint, 'POST', '/exports', request)),
    exports: async () => json<ExportInfo[]>(await call(endpoint, 'GET', '/exports')),
    unserve: async (id) => json<ExportInfo>(await call(endpoint, 'POST', '/exports/stop', { id })),
    overlays: async () => json<OverlayInfo[]>(await call(endpoint, 'GET', '/overlays')),
    discardOverlay: async (name) => json<OverlayInfo>(await call(endpoint, 'POST', '/overlays/discard', { name })),
    commitOverlay: async (request, onProgress) => streamed<CommitResultInfo>(await call(endpoint, 'POST', '/overlays/commit', request), onProgress),
    cloneOverlay: async (request) => json<OverlayInfo>(await call(endpoint, 'POST', '/overlays/clone', request)),
    rebaseOverlay: async (request) => json<OverlayInfo>(await call(endpoint, 'POST', '/overlays/rebase', request)),
    removeVersion: async (request) => json<RemoveResultInfo>(await call(endpoint, 'POST', '/images/rm', request)),
    prune: async (request) => json<PruneResultInfo>(await call(endpoint, 'POST', '/images/prune', request)),
    check: async (request, onProgress) => streamed<CheckResultInfo>(await call(endpoint, 'POST', '/check', request), onProgress),
    watchStatus: async (onStatus, options = {}) => {
      const response = await call(endpoint, 'GET', '/events', undefined, options.signal)
      if (!response.ok || response.body === null) await json<unknown>(response)
      try {
        for await (const event of parseEventStream(response.body as AsyncIterable<Uint8Array>)) {
          if (event.event === STATUS_EVENT) onStatus(JSON.parse(event.data) as StatusInfo)
        }
      } catch (err) {
        if (options.signal?.aborted === true) return
        throw new DaemonUnreachableError(`lost the event stream of the daemon at ${endpoint.url}: ${(err as Error).message}`, { cause: err })
      }
      if (options.signal?.aborted !== true) throw new DaemonUnreachableError(`the daemon at ${endpoint.url} closed its event stream`)
    }
  }
}

/** A client for the daemon serving `dataDir`. */
export async function connectToDaemon (dataDir: string): Promise<ControlClient> {
  return createControlClient(await readEndpoint(dataDir))
}
