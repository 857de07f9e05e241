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
  failure?: { ref: string, message: string }
  /** One line for a tooltip or a header. */
  text: string
}

function plural (n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`
}

/** The last finished pull of each ref, newest last. */
function lastPulls (jobs: JobInfo[]): Map<string, JobInfo> {
  const last = new Map<string, JobInfo>()
  for (const job of jobs) if (job.kind === 'pull') last.set(job.ref, job)
  return last
}

/** Summarizes a status snapshot; `undefined` means the daemon is not reachable. */
export function summarize (status: StatusInfo | undefined): NodeSummary {
  if (status === undefined) return { state: 'down', percent: null, pending: 0, text: 'CachePoint not running' }
  const pending = status.pending
  const waiting = pending > 0 ? `, ${plural(pending, 'version', 'versions')} pending` : ''
  if (status.paused) return { state: 'paused', percent: null, pending, text: `Paused${waiting}` }
  const running = status.jobs.filter(j => j.kind === 'pull' && j.state === 'running')
  if (running.length > 0) {
    const done = running.reduce((sum, j) => sum + j.done, 0)
    const total = running.reduce((sum, j) => sum + j.total, 0)
    const percent = total > 0 ? Math.floor(100 * done / total) : 0
    return { state: 'syncing', percent, pending, text: `Syncing ${percent}% (${running.map(j => j.ref).join(', ')})` }
  }
  if (!status.online) return { state: 'offline', percent: null, pending, text: `Offline: no peer reachable${waiting}` }
  const pendingRefs = new Set(status.versions.filter(v => v.state === 'pulling').map(v => `${v.name}@${v.version}`))
  for (const job of lastPulls(status.jobs).values()) {
    if (job.state === 'failed' && (pendingRefs.has(job.ref) || !status.versions.some(v => `${v.name}@${v.version}` === job.ref))) {
      const message = job.error?.message ?? 'failed'
      return { state: 'error', percent: null, pending, failure: { ref: job.ref, message }, text: `Pull of ${job.ref} failed: ${message}` }
    }
  }
  if (pending > 0) return { state: 'pending', percent: null, pending, text: `${plural(pending, 'version', 'versions')} waiting (sync now fetches them)` }
  return { state: 'up-to-date', percent: null, pending: 0, text: 'Up to date' }
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
