import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { PausedError, PullPausedError, type PauseResultInfo, type ProgressSink, type PullRequest, type PullResultInfo, type SyncResultInfo } from '@cachecloud/control'
import { formatVersionRef, isPaused, parseVersionRef, writeFileAtomic } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import { parseMultiaddr } from '@cachecloud/network'
import type { Transfer } from '@cachecloud/transfer'
import { NoPeersError } from './errors.js'
import type { JobTracker } from './jobs.js'

export interface PullsInit {
  transfer: Transfer
  catalog: Catalog
  jobs: JobTracker
  /** Configured peers: where a pull that names none, or a resumed one that lost its own, pulls from. */
  peers: string[]
  /** Where the pause survives a restart (daemon-state.json). */
  stateFile: string
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

/** daemon-state.json: the pause, and the sources of direct pulls not finished yet (resumed at start). */
interface DaemonState { paused?: unknown, pulls?: unknown }

/**
 * The pulls of a daemon and the pause: every pull runs with an AbortSignal;
 * pause aborts them (their jobs end `paused`, what they stored stays, and the
 * transfer's pull resumes from it), resume and sync start a pull of every
 * version still `pulling` as a daemon job. The sources of unfinished pulls are
 * kept in the state file: a pull cut by a crash continues at the next start.
 */
export class Pulls {
  paused = false
  private readonly active = new Set<ActivePull>()
  /** Sources of the last pull of each ref, so resume pulls from where the user asked. */
  private readonly sources = new Map<string, string[]>()

  constructor (private readonly init: PullsInit) {}

  async start (): Promise<void> {
    try {
      const state = JSON.parse(await readFile(this.init.stateFile, 'utf8')) as DaemonState
      this.paused = state.paused === true
      for (const [ref, sources] of Object.entries(typeof state.pulls === 'object' && state.pulls !== null ? state.pulls : {})) {
        if (Array.isArray(sources) && sources.length > 0 && sources.every(s => typeof s === 'string')) this.sources.set(ref, sources as string[])
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.init.logger.warn({ err }, 'ignoring unreadable daemon state file')
    }
    if (this.paused) this.init.logger.info('CachePoint is paused: pulls wait for resume')
  }

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
    if (stale.length > 0) await this.save()
    return started
  }

  private background (ref: string, sources: string[]): void {
    this.run(ref, sources, () => {}).catch((err: Error & { code?: string }) => {
      if (!isPaused(err)) this.init.logger.warn({ ref, err }, 'background pull of %s failed: %s', ref, err.message)
    })
  }

  /** A pull asked for through the API: refused while paused; its stream ends with ERR_PULL_PAUSED if paused meanwhile. */
  async pull (request: PullRequest, onProgress: ProgressSink): Promise<PullResultInfo> {
    if (this.paused) throw new PausedError(`this CachePoint is paused: ${request.ref} is not pulled until resume (cachepoint resume)`)
    const ref = formatVersionRef(parseVersionRef(request.ref))
    const sources = (request.from !== undefined && request.from.length > 0) ? request.from : this.init.peers
    if (sources.length === 0) throw new NoPeersError(`no peer to pull ${request.ref} from: pass --from MULTIADDR or add peers to the config`)
    return this.run(ref, sources, onProgress)
  }

  async pause (): Promise<PauseResultInfo> {
    this.paused = true
    await this.save()
    const stopping = [...this.active]
    for (const pull of stopping) pull.controller.abort(new PullPausedError(`pull of ${pull.ref} paused; it continues on resume`))
    await Promise.all(stopping.map(async pull => pull.settled))
    this.init.onChange()
    this.init.logger.info({ stopped: stopping.map(p => p.ref) }, 'paused')
    return { paused: true, stopped: stopping.map(p => p.ref) }
  }

  async resume (): Promise<SyncResultInfo> {
    this.paused = false
    await this.save()
    this.init.logger.info('resumed')
    this.init.onChange()
    return this.catchUp()
  }

  async sync (): Promise<SyncResultInfo> {
    if (this.paused) throw new PausedError('this CachePoint is paused: resume it to sync (cachepoint resume)')
    return this.catchUp()
  }

  /** Starts a pull, as a daemon job, of every version still `pulling` that no pull is fetching now. */
  private async catchUp (): Promise<SyncResultInfo> {
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
    await this.save().catch((err: Error) => { this.init.logger.warn({ err }, 'cannot record the pull in the state file') })
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
          await this.save().catch((err: Error) => { this.init.logger.warn({ err }, 'cannot update the state file') })
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

  private async save (): Promise<void> {
    await writeFileAtomic(this.init.stateFile, JSON.stringify({ paused: this.paused, pulls: Object.fromEntries(this.sources) }) + '\n')
  }
}
