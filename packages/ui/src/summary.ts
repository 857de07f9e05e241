import type { PullFailureInfo, PullStatusInfo, StatusInfo } from '@cachecloud/control'

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

/** How far the last pull of a version is: the daemon's one status per ref, whichever way it arrives (a pull job, the swarm). */
export type PullProgress = PullStatusInfo

/** The pull that counts for each ref (merged by the daemon). */
export function pullProgress (status: StatusInfo): Map<string, PullProgress> {
  return new Map(status.pulls.map(p => [p.ref, p]))
}

/** Every pull running now, by ref. */
export function runningPulls (status: StatusInfo): PullProgress[] {
  return status.pulls.filter(p => p.state === 'running')
}

/** A failed pull the page and the tray show until a later success of its ref supersedes it, or the user dismisses it. */
export type PullFailure = PullFailureInfo

/** The failed pulls that still matter, newest first (chosen by the daemon). */
export function pullFailures (status: StatusInfo): PullFailure[] {
  return status.pullFailures
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

/** Summarizes a status; `undefined` means the daemon is not reachable. */
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

/** Notices for what changed between two statuses (none for the first one: nothing changed yet). */
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
