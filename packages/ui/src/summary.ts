import type { JobInfo, StatusInfo } from '@cachecloud/control'

/**
 * The state of a CachePoint at a glance, for the tray icon and the page's
 * header. One of them at a time, the first that applies:
 * - `down`: the daemon does not answer;
 * - `paused`: the user paused it;
 * - `syncing`: a pull is running (with its percent);
 * - `offline`: no configured peer is reachable (with the versions pending);
 * - `error`: the last pull of a version still pending failed;
 * - `pending`: versions wait to be pulled, nothing failed (sync now fetches them);
 * - `up-to-date`: every version held is complete.
 */
export type NodeState = 'down' | 'paused' | 'syncing' | 'offline' | 'error' | 'pending' | 'up-to-date'

export interface NodeSummary {
  state: NodeState
  /** Percent of the running pulls (bytes done over bytes to do), for `syncing`; else null. */
  percent: number | null
  /** Versions still being pulled. */
  pending: number
  /** The failed pull behind `error`. */
  failure?: PullFailure
  /** One line for a tooltip or a header. */
  text: string
}

function plural (n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

/** How far the last pull of a version is: its last pull job (`cachepoint image pull`, sync), or its swarm pull (a subscription). */
export interface PullProgress extends Pick<JobInfo, 'state' | 'done' | 'total' | 'rate' | 'etaSeconds'> {
  error?: { message: string }
  /** Who tries again after a failure, when not sync now. */
  retry?: string
}

/** The last pull of each ref: pull jobs (listed oldest first), then swarm pulls of refs no job is pulling now. */
export function pullProgress (status: StatusInfo): Map<string, PullProgress> {
  const last = new Map<string, PullProgress>()
  for (const job of status.jobs) if (job.kind === 'pull') last.set(job.ref, job)
  for (const p of status.swarm.pulls) {
    if (last.get(p.ref)?.state === 'running') continue
    const state = p.state === 'pulling' || p.state === 'resolving' ? 'running' : p.state === 'complete' ? 'done' : p.state
    last.set(p.ref, { state, done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds, retry: 'the swarm retries on its own', ...(p.error === undefined ? {} : { error: { message: p.error } }) })
  }
  return last
}

/** Every pull running now, by ref. */
export function runningPulls (status: StatusInfo): Array<PullProgress & { ref: string }> {
  return [...pullProgress(status)].filter(([, p]) => p.state === 'running').map(([ref, p]) => ({ ref, ...p }))
}

/** A failed pull the page and the tray show until a later success of its ref supersedes it, or the user dismisses it. */
export interface PullFailure {
  /** Stable for one failure (`job:ID`, `swarm:REF:STARTED`): what a dismissal remembers. */
  id: string
  ref: string
  message: string
  /** When it failed (ISO 8601), or when its swarm pull started when no end is known. */
  at: string
}

const later = (a: string | undefined, b: string): boolean => a !== undefined && Date.parse(a) >= Date.parse(b)

/**
 * The failed pulls that still matter, newest first: a failure is superseded
 * by a version of its ref now complete, a pull of its ref running now, or a
 * pull of its ref that succeeded after it (a job done, a swarm pull complete);
 * of several failures of one ref only the latest counts.
 */
export function pullFailures (status: StatusInfo): PullFailure[] {
  const complete = new Set(status.versions.filter(v => v.state === 'complete').map(v => `${v.name}@${v.version}`))
  const pulls = status.jobs.filter(j => j.kind === 'pull')
  const failures: PullFailure[] = []
  for (const job of pulls) {
    if (job.state === 'failed') failures.push({ id: `job:${job.id}`, ref: job.ref, message: job.error?.message ?? 'failed', at: job.finishedAt ?? job.startedAt })
  }
  for (const p of status.swarm.pulls) {
    if (p.state === 'failed') failures.push({ id: `swarm:${p.ref}:${p.startedAt}`, ref: p.ref, message: `${p.error ?? 'failed'} (retrying)`, at: p.startedAt })
  }
  const superseded = (f: PullFailure): boolean =>
    complete.has(f.ref) ||
    pulls.some(j => j.ref === f.ref && (j.state === 'running' || (j.state === 'done' && later(j.finishedAt, f.at)))) ||
    status.swarm.pulls.some(p => p.ref === f.ref && (p.state === 'pulling' || p.state === 'resolving' || (p.state === 'complete' && later(p.startedAt, f.at))))
  const newest = new Map<string, PullFailure>() // one failure per ref: its latest
  for (const f of failures) if (!superseded(f) && !later(newest.get(f.ref)?.at, f.at)) newest.set(f.ref, f)
  return [...newest.values()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
}

/** What waits while offline besides image versions: personal snapshots not yet in the data center. */
function personalWaiting (status: StatusInfo): string {
  const snapshots = status.personal.reduce((sum, p) => sum + p.pendingSnapshots, 0)
  return snapshots > 0 ? `, ${plural(snapshots, 'snapshot', 'snapshots')} waiting for the data center` : ''
}

export interface SummarizeOptions {
  /** Ids of failures the user dismissed (PullFailure.id): they no longer make the state `error`. */
  dismissed?: ReadonlySet<string>
}

/** Summarizes a status snapshot; `undefined` means the daemon is not reachable. */
export function summarize (status: StatusInfo | undefined, options: SummarizeOptions = {}): NodeSummary {
  if (status === undefined) return { state: 'down', percent: null, pending: 0, text: 'CachePoint not running' }
  const pending = status.pending
  const waiting = (pending > 0 ? `, ${plural(pending, 'version', 'versions')} pending` : '') + personalWaiting(status)
  if (status.paused) return { state: 'paused', percent: null, pending, text: `Paused${waiting}` }
  const running = runningPulls(status)
  if (running.length > 0) {
    const done = running.reduce((sum, j) => sum + j.done, 0)
    const total = running.reduce((sum, j) => sum + j.total, 0)
    const percent = total > 0 ? Math.floor(100 * done / total) : 0
    return { state: 'syncing', percent, pending, text: `Syncing ${percent}% (${running.map(j => j.ref).join(', ')})` }
  }
  if (!status.online) return { state: 'offline', percent: null, pending, text: `Offline: no peer reachable${waiting}` }
  const failure = pullFailures(status).find(f => options.dismissed?.has(f.id) !== true)
  if (failure !== undefined) return { state: 'error', percent: null, pending, failure, text: `Pull of ${failure.ref} failed: ${failure.message}` }
  if (pending > 0) return { state: 'pending', percent: null, pending, text: `${plural(pending, 'version', 'versions')} waiting (sync now fetches them)${personalWaiting(status)}` }
  return { state: 'up-to-date', percent: null, pending: 0, text: `Up to date${personalWaiting(status)}` }
}

/** Something the user should hear about once: a version became ready, or a pull failed. */
export interface Notice {
  kind: 'version-ready' | 'pull-failed'
  ref: string
  title: string
  body: string
}

/** Notices for what changed between two snapshots (none for the first one: nothing changed yet). */
export function noticesBetween (before: StatusInfo | undefined, after: StatusInfo | undefined): Notice[] {
  if (before === undefined || after === undefined) return []
  const notices: Notice[] = []
  const complete = new Set(before.versions.filter(v => v.state === 'complete').map(v => v.cid))
  for (const v of after.versions) {
    if (v.state === 'complete' && !complete.has(v.cid)) {
      const ref = `${v.name}@${v.version}`
      notices.push({ kind: 'version-ready', ref, title: `${ref} is ready`, body: `Version ${v.version} of ${v.name} is complete on this CachePoint.` })
    }
  }
  const failedBefore = new Set(before.jobs.filter(j => j.state === 'failed').map(j => j.id))
  for (const j of after.jobs) {
    if (j.kind === 'pull' && j.state === 'failed' && !failedBefore.has(j.id)) {
      notices.push({ kind: 'pull-failed', ref: j.ref, title: `Sync of ${j.ref} failed`, body: j.error?.message ?? 'the pull failed' })
    }
  }
  return notices
}
