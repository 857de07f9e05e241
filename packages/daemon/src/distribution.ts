import type { Logger } from 'pino'
import { PausedError, PullPausedError, type ImageVersionInfo, type JobInfo, type PauseResultInfo, type PullFailureInfo, type PullStatusInfo, type SwarmPullInfo, type SyncResultInfo } from '@cachecloud/control'
import { DEFAULT_PULL_RETRY, describeRetry, type RetryPolicy } from '@cachecloud/core'
import type { Swarm } from '@cachecloud/swarm'
import type { DaemonState } from './daemon-state.js'
import type { PeerMonitor } from './peer-monitor.js'
import type { PersonalFolders } from './personal.js'
import { pullFailures, pullStatuses } from './pull-status.js'
import type { Pulls } from './pulls.js'

/** The retry rule of every background pull of this daemon: direct pulls resumed or caught up, and the swarm's. */
export const PULL_RETRY: Readonly<RetryPolicy> = DEFAULT_PULL_RETRY

export interface DistributionInit {
  /** The pause, persisted; loaded before the parts start. */
  state: DaemonState
  /** Direct pulls, as jobs (`image pull`, resumed at start, sync). */
  pulls: Pulls
  /** Swarm pulls (subscriptions, announcements, behind NBD exports). */
  swarm: Swarm
  /** Personal folders: paused, they keep their snapshots here. */
  personal: PersonalFolders
  /** Dialled again on resume and sync, so online is fresh. */
  monitor: PeerMonitor
  logger: Logger
  onChange: () => void
}

/** A sync's result with the swarm's restarts: a ref the swarm restarted is `started`, not skipped. */
function withSwarm (result: SyncResultInfo, swarmStarted: string[]): SyncResultInfo {
  const started = [...new Set([...result.started, ...swarmStarted])]
  return { ...result, started, skipped: result.skipped.filter(s => !started.includes(s.ref)) }
}

/**
 * How versions (and personal snapshots) arrive at and leave a CachePoint, as one
 * thing: the one pause (persisted; it stops direct pulls, swarm pulls and the
 * personal folders' traffic, and survives a restart), resume and sync across all
 * of them, the one retry rule (PULL_RETRY) and the one status per arriving
 * version, whichever engine fetches it. The engines (Pulls, the swarm) fetch;
 * this decides when.
 */
export class Distribution {
  constructor (private readonly init: DistributionInit) {}

  get paused (): boolean { return this.init.state.paused }

  /** At start, before the engines start: a node paused before its restart stays paused, and starts no pull. */
  async start (): Promise<void> {
    if (!this.paused) return
    this.init.logger.info('CachePoint is paused: pulls wait for resume')
    await this.init.swarm.pause()
    this.init.personal.setPaused(true)
  }

  /** Pause: pull jobs and swarm pulls stop (what they stored stays), none starts until resume; personal snapshots are kept here, not sent. */
  async pause (): Promise<PauseResultInfo> {
    const { state, pulls, swarm, personal } = this.init
    state.paused = true
    await state.save()
    personal.setPaused(true)
    const [direct, swarmStopped] = await Promise.all([
      pulls.stopAll(ref => new PullPausedError(`pull of ${ref} paused; it continues on resume`)),
      swarm.pause()
    ])
    const stopped = [...direct, ...swarmStopped.filter(ref => !direct.includes(ref))]
    this.init.logger.info({ stopped }, 'paused')
    this.init.onChange()
    return { paused: true, stopped }
  }

  async resume (): Promise<SyncResultInfo> {
    const { state, monitor, swarm, personal, pulls } = this.init
    state.paused = false
    await state.save()
    this.init.logger.info('resumed')
    void monitor.probe()
    // the swarm first: versions it restarts are its own, and the pull jobs leave them to it
    const swarmStarted = await swarm.resume()
    personal.setPaused(false)
    this.init.onChange()
    return withSwarm(await pulls.catchUp(), swarmStarted)
  }

  /** Sync now: dials the configured peers again (so online is fresh), restarts every interrupted pull now (a waiting retry included) and asks peers for newer subscribed versions. */
  async sync (): Promise<SyncResultInfo> {
    const { monitor, swarm, personal, pulls } = this.init
    void monitor.probe()
    if (this.paused) throw new PausedError('this CachePoint is paused: resume it to sync (cachepoint resume)')
    const swarmStarted = await swarm.syncNow()
    personal.replicateNow()
    return withSwarm(await pulls.catchUp(), swarmStarted)
  }

  /** One status per arriving version and the failures that still matter; a failed job waiting for its retry says when. */
  status (versions: ImageVersionInfo[], jobs: JobInfo[], swarmPulls: SwarmPullInfo[]): { pulls: PullStatusInfo[], pullFailures: PullFailureInfo[] } {
    const retries = new Map(this.init.pulls.retrying().map(r => [r.ref, r]))
    const pulls = pullStatuses(jobs, swarmPulls).map((p): PullStatusInfo => {
      const pending = p.via === 'job' && p.state === 'failed' ? retries.get(p.ref) : undefined
      if (pending !== undefined) return { ...p, retry: `tried again at ${new Date(pending.at).toISOString()} (${pending.failures} ${pending.failures === 1 ? 'try' : 'tries'} failed)` }
      return p.via === 'swarm' && p.state === 'failed' ? { ...p, retry: `by the swarm: ${describeRetry(PULL_RETRY)}` } : p
    })
    return { pulls, pullFailures: pullFailures(versions, jobs, swarmPulls, [...retries.keys()]) }
  }
}
