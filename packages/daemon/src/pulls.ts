import type { Logger } from 'pino'
import { PausedError, PullPausedError, type ProgressSink, type PullRequest, type PullResultInfo, type SyncResultInfo } from '@cachecloud/control'
import { formatVersionRef, isPaused, parseVersionRef, retryDelay, type RetryPolicy } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import { parseMultiaddr } from '@cachecloud/network'
import type { Transfer } from '@cachecloud/transfer'
import { NoPeersError } from './errors.js'
import type { DaemonState } from './daemon-state.js'
import type { JobTracker } from './jobs.js'

export interface PullsInit {
  transfer: Transfer
  catalog: Catalog
  jobs: JobTracker
  /** Configured peers: where a pull that names none, or a resumed one that lost its own, pulls from. */
  peers: string[]
  /** The pause (set by the distribution) and the sources of unfinished pulls (kept here), across restarts. */
  state: DaemonState
  /** How a background pull (resumed at start, started by a sync or a resume) that failed is tried again. */
  retry: RetryPolicy
  logger: Logger
  onChange: () => void
  /** Refs the swarm is pulling now (subscriptions): catch-up leaves them to it instead of pulling them twice. */
  swarmPulls?: () => string[]
}

interface ActivePull {
  ref: string
  controller: AbortController
  settled: Promise<unknown>
  /** Every client waiting on this pull hears its progress (a pull asked for while one of the ref runs joins it). */
  listeners: Set<ProgressSink>
  result: Promise<PullResultInfo>
}

/** A background pull that failed and waits to be tried again. */
export interface PendingRetry {
  ref: string
  /** Tries failed so far. */
  failures: number
  /** When it is tried again (ms since the epoch). */
  at: number
}

/**
 * The direct pulls of a daemon, each a job with an AbortSignal: stopAll (a pause)
 * aborts them (their jobs end `paused`, what they stored stays, and the
 * transfer's pull resumes from it); catch-up starts a pull of every version
 * still `pulling` as a job. A background pull that fails is tried again as the
 * retry policy says. The sources of unfinished pulls are kept in the daemon
 * state: a pull cut by a crash continues at the next start. Whether the node is
 * paused is the distribution's to say (DaemonState.paused); this only obeys it.
 */
export class Pulls {
  private readonly active = new Set<ActivePull>()
  private readonly retries = new Map<string, PendingRetry & { timer: NodeJS.Timeout }>()
  private stopped = false

  constructor (private readonly init: PullsInit) {}

  private get paused (): boolean { return this.init.state.paused }
  private get sources (): Map<string, string[]> { return this.init.state.sources }

  /** At start: continues the direct pulls the last run did not finish (a crash, a kill), unless paused. */
  async resumeInterrupted (): Promise<string[]> {
    if (this.paused) return []
    const started: string[] = []
    for (const entry of await this.init.catalog.list()) {
      const ref = formatVersionRef(entry)
      const sources = this.sources.get(ref)
      if (entry.state !== 'pulling' || sources === undefined || (this.init.swarmPulls?.() ?? []).includes(ref)) continue
      started.push(ref)
      this.background(ref, sources)
    }
    if (started.length > 0) this.init.logger.info({ refs: started }, 'resuming pulls interrupted by the last stop: %s', started.join(', '))
    // sources of pulls that never made an entry (a version no peer had) are not kept forever
    const pulling = new Set((await this.init.catalog.list()).filter(e => e.state === 'pulling').map(e => formatVersionRef(e)))
    const stale = [...this.sources.keys()].filter(ref => !pulling.has(ref) && ![...this.active].some(p => p.ref === ref))
    for (const ref of stale) this.sources.delete(ref)
    if (stale.length > 0) await this.init.state.save()
    return started
  }

  /** Background pulls waiting to be tried again, soonest first. */
  retrying (): PendingRetry[] {
    return [...this.retries.values()].map(({ ref, failures, at }) => ({ ref, failures, at })).sort((a, b) => a.at - b.at)
  }

  private cancelRetry (ref: string): void {
    const pending = this.retries.get(ref)
    if (pending !== undefined) clearTimeout(pending.timer)
    this.retries.delete(ref)
  }

  /** Drops every waiting retry (a pause, the daemon's stop). */
  private cancelRetries (): void {
    for (const ref of [...this.retries.keys()]) this.cancelRetry(ref)
  }

  private background (ref: string, sources: string[], failures = 0): void {
    this.cancelRetry(ref)
    this.run(ref, sources, () => {}).catch((err: Error & { code?: string }) => {
      if (isPaused(err) || this.paused || this.stopped) return
      const delay = retryDelay(this.init.retry, failures)
      if (delay === undefined) {
        this.init.logger.warn({ ref, err, attempts: failures + 1 }, 'gave up pulling %s after %d tries: %s (cachepoint sync starts it again)', ref, failures + 1, err.message)
        return
      }
      this.init.logger.warn({ ref, err, retryInMs: delay }, 'background pull of %s failed, retrying in %d ms: %s', ref, delay, err.message)
      const timer = setTimeout(() => { this.retry(ref, sources, failures + 1) }, delay)
      timer.unref()
      this.retries.set(ref, { ref, failures: failures + 1, at: Date.now() + delay, timer })
      this.init.onChange()
    })
  }

  /** A retry's time has come: tried unless paused, stopped, complete meanwhile, or another pull (a job, the swarm) has it. */
  private retry (ref: string, sources: string[], failures: number): void {
    this.retries.delete(ref)
    if (this.paused || this.stopped || [...this.active].some(p => p.ref === ref) || (this.init.swarmPulls?.() ?? []).includes(ref)) return
    this.init.catalog.find(parseVersionRef(ref)).then((entry) => {
      if (entry?.state === 'complete' || this.paused || this.stopped) return
      this.background(ref, this.sources.get(ref) ?? sources, failures)
    }, (err: Error) => { this.init.logger.warn({ ref, err }, 'cannot retry the pull of %s: %s', ref, err.message) })
  }

  /** A pull asked for through the API: refused while paused; its stream ends with ERR_PULL_PAUSED if paused meanwhile. */
  async pull (request: PullRequest, onProgress: ProgressSink): Promise<PullResultInfo> {
    if (this.paused) throw new PausedError(`this CachePoint is paused: ${request.ref} is not pulled until resume (cachepoint resume)`)
    const ref = formatVersionRef(parseVersionRef(request.ref))
    const sources = (request.from !== undefined && request.from.length > 0) ? request.from : this.init.peers
    if (sources.length === 0) throw new NoPeersError(`no peer to pull ${request.ref} from: pass --from MULTIADDR or add peers to the config`)
    this.cancelRetry(ref) // this pull is the retry
    return this.run(ref, sources, onProgress)
  }

  /** Aborts every running pull with `reason` (its job ends paused) and drops waiting retries; resolves once all have stopped. */
  async stopAll (reason: (ref: string) => Error): Promise<string[]> {
    this.cancelRetries()
    const stopping = [...this.active]
    for (const pull of stopping) pull.controller.abort(reason(pull.ref))
    await Promise.all(stopping.map(async pull => pull.settled))
    return stopping.map(p => p.ref)
  }

  /** At the daemon's stop: no retry fires any more. */
  stop (): void {
    this.stopped = true
    this.cancelRetries()
  }

  /** Starts a pull, as a daemon job, of every version still `pulling` that no pull is fetching now (one waiting for a retry is tried now). */
  async catchUp (): Promise<SyncResultInfo> {
    const result: SyncResultInfo = { paused: this.paused, started: [], running: [], skipped: [] }
    for (const entry of await this.init.catalog.list()) {
      if (entry.state !== 'pulling') continue
      const ref = formatVersionRef(entry)
      if ([...this.active].some(p => p.ref === ref) || (this.init.swarmPulls?.() ?? []).includes(ref)) {
        result.running.push(ref)
        continue
      }
      const sources = this.sources.get(ref) ?? this.init.peers
      if (sources.length === 0) {
        result.skipped.push({ ref, reason: 'no peer to pull from: add peers to the config or pull it with --from' })
        continue
      }
      result.started.push(ref)
      this.background(ref, sources)
    }
    this.init.logger.info(result, 'catch-up')
    return result
  }

  /**
   * Runs one pull as a job; a pull resumed after pause starts its job where the paused one stopped.
   * A pull of a ref already running (resumed at start, say) is joined: its client hears that pull's progress and result.
   */
  private async run (ref: string, sources: string[], onProgress: ProgressSink): Promise<PullResultInfo> {
    const running = [...this.active].find(p => p.ref === ref)
    if (running !== undefined) {
      running.listeners.add(onProgress)
      try {
        return await running.result
      } finally {
        running.listeners.delete(onProgress)
      }
    }
    const controller = new AbortController()
    let settle = (): void => {}
    let deliver: (result: Promise<PullResultInfo>) => void = () => {}
    const pull: ActivePull = {
      ref, controller, settled: new Promise<void>((resolve) => { settle = resolve }), listeners: new Set([onProgress]),
      result: new Promise<PullResultInfo>((resolve) => { deliver = resolve })
    }
    // joined clients may come and go; the result is theirs to await, never an unhandled rejection
    pull.result.catch(() => {})
    this.active.add(pull)
    this.sources.set(ref, sources)
    await this.init.state.save().catch((err: Error) => { this.init.logger.warn({ err }, 'cannot record the pull in the state file') })
    const work = this.execute(pull, sources).finally(settle)
    deliver(work)
    return work
  }

  private async execute (pull: ActivePull, sources: string[]): Promise<PullResultInfo> {
    const { ref, controller } = pull
    const fanOut: ProgressSink = (event) => { for (const listener of pull.listeners) listener(event) }
    const before = this.init.jobs.takePaused(ref)
    // progress continues from the paused job: done and total both grow by what it had stored
    const offset = before?.done ?? 0
    try {
      return await this.init.jobs.run('pull', ref, fanOut, async (progress) => {
        try {
          const result = await this.init.transfer.pull({
            ref: parseVersionRef(ref),
            peers: sources.map(parseMultiaddr),
            signal: controller.signal,
            onProgress: (event) => { progress({ ...event, done: offset + event.done, total: offset + event.total }) }
          })
          const info: PullResultInfo = {
            ref,
            cid: result.cid.toString(),
            fetchedBlocks: result.fetchedBlocks,
            fetchedBytes: result.fetchedBytes,
            wireBytes: result.wireBytes,
            heldBlocks: result.heldBlocks,
            holes: result.holes,
            durationMs: result.durationMs,
            bytesByPeer: result.bytesByPeer
          }
          this.init.logger.info(info, 'image pulled')
          this.sources.delete(ref)
          await this.init.state.save().catch((err: Error) => { this.init.logger.warn({ err }, 'cannot update the state file') })
          return info
        } catch (err) {
          // whatever the abort surfaced as (libp2p's AbortError, a stream reset), a pause is a pause
          if (controller.signal.aborted && controller.signal.reason instanceof PullPausedError) throw controller.signal.reason
          throw err
        }
      }, before === undefined ? undefined : { done: before.done, total: before.total })
    } finally {
      this.active.delete(pull)
    }
  }
}
