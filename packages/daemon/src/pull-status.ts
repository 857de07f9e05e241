/**
 * One status per version arriving, whichever way it arrives. A version is pulled by a job
 * (`image pull`, sync, resume) or by the swarm (a subscription, an announcement, behind an
 * NBD export); the two engines keep their own records, and this is the one place that
 * reconciles them into what the CLI, the status page and the tray show.
 */
import type { ImageVersionInfo, JobInfo, PullFailureInfo, PullStatusInfo, SwarmPullInfo } from '@cachecloud/control'

function fromJob (job: JobInfo): PullStatusInfo {
  return {
    ref: job.ref, via: 'job', state: job.state, done: job.done, total: job.total, rate: job.rate, etaSeconds: job.etaSeconds, startedAt: job.startedAt,
    ...(job.finishedAt === undefined ? {} : { finishedAt: job.finishedAt }),
    ...(job.error === undefined ? {} : { error: job.error })
  }
}

/** A swarm pull's state in a job's terms: resolving and pulling are running, complete is done. */
function swarmState (p: SwarmPullInfo): PullStatusInfo['state'] {
  return p.state === 'pulling' || p.state === 'resolving' ? 'running' : p.state === 'complete' ? 'done' : p.state
}

function fromSwarm (p: SwarmPullInfo): PullStatusInfo {
  return {
    ref: p.ref, via: 'swarm', state: swarmState(p), done: p.bytesDone, total: p.bytesTotal, rate: p.rate, etaSeconds: p.etaSeconds, startedAt: p.startedAt,
    ...(p.error === undefined ? {} : { error: { message: p.error } })
  }
}

/** The pull that counts for each ref: a running pull job, else the swarm's pull of it, else its last pull job (jobs are listed oldest first). */
export function pullStatuses (jobs: JobInfo[], swarmPulls: SwarmPullInfo[]): PullStatusInfo[] {
  const last = new Map<string, PullStatusInfo>()
  for (const job of jobs) if (job.kind === 'pull') last.set(job.ref, fromJob(job))
  for (const p of swarmPulls) {
    if (last.get(p.ref)?.state === 'running') continue
    last.set(p.ref, fromSwarm(p))
  }
  return [...last.values()]
}

const later = (a: string | undefined, b: string): boolean => a !== undefined && Date.parse(a) >= Date.parse(b)

/**
 * The failed pulls that still matter, newest first: a failure is superseded by a version of its
 * ref now complete, a pull of its ref running now, or a pull of its ref that succeeded after it
 * (a job done, a swarm pull complete); of several failures of one ref only the latest counts.
 * A failure whose ref waits to be tried again (`retrying`, and every swarm pull) says so.
 */
export function pullFailures (versions: ImageVersionInfo[], jobs: JobInfo[], swarmPulls: SwarmPullInfo[], retrying: string[] = []): PullFailureInfo[] {
  const complete = new Set(versions.filter(v => v.state === 'complete').map(v => `${v.name}@${v.version}`))
  const pulls = jobs.filter(j => j.kind === 'pull')
  const failures: PullFailureInfo[] = []
  for (const job of pulls) {
    if (job.state === 'failed') {
      const message = job.error?.message ?? 'failed'
      failures.push({ id: `job:${job.id}`, ref: job.ref, message: retrying.includes(job.ref) ? `${message} (retrying)` : message, at: job.finishedAt ?? job.startedAt })
    }
  }
  for (const p of swarmPulls) {
    if (p.state === 'failed') failures.push({ id: `swarm:${p.ref}:${p.startedAt}`, ref: p.ref, message: `${p.error ?? 'failed'} (retrying)`, at: p.startedAt })
  }
  const superseded = (f: PullFailureInfo): boolean =>
    complete.has(f.ref) ||
    pulls.some(j => j.ref === f.ref && (j.state === 'running' || (j.state === 'done' && later(j.finishedAt, f.at)))) ||
    swarmPulls.some(p => p.ref === f.ref && (swarmState(p) === 'running' || (swarmState(p) === 'done' && later(p.startedAt, f.at))))
  const newest = new Map<string, PullFailureInfo>() // one failure per ref: its latest
  for (const f of failures) if (!superseded(f) && !later(newest.get(f.ref)?.at, f.at)) newest.set(f.ref, f)
  return [...newest.values()].sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
}
