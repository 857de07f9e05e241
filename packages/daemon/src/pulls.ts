import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { PausedError, PullPausedError, type PauseResultInfo, type ProgressSink, type PullRequest, type PullResultInfo, type SyncResultInfo } from '@cachecloud/control'
import { formatVersionRef, parseVersionRef, writeFileAtomic } from '@cachecloud/core'
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
}

/**
 * The pulls of a daemon and the pause: every pull runs with an AbortSignal;
 * pause aborts them (their jobs end `paused`, what they stored stays, and the
 * transfer's pull resumes from it), resume and sync start a pull of every
 * version still `pulling` as a daemon job.
 */
export class Pulls {
  paused = false
  private readonly active = new Set<ActivePull>()
  /** Sources of the last pull of each ref, so resume pulls from where the user asked. */
  private readonly sources = new Map<string, string[]>()

  constructor (private readonly init: PullsInit) {}

  async start (): Promise<void> {
    try {
      this.paused = (JSON.parse(await readFile(this.init.stateFile, 'utf8')) as { paused?: unknown }).paused === true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.init.logger.warn({ err }, 'ignoring unreadable daemon state file')
    }
    if (this.paused) this.init.logger.info('CachePoint is paused: pulls wait for resume')
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
      this.run(ref, sources, () => {}).catch((err: Error & { code?: string }) => {
        if (err.code !== 'ERR_PULL_PAUSED') this.init.logger.warn({ ref, err }, 'background pull of %s failed: %s', ref, err.message)
      })
    }
    this.init.logger.info(result, 'catch-up')
    return result
  }

  /** Runs one pull as a job; a pull resumed after pause starts its job where the paused one stopped. */
  private async run (ref: string, sources: string[], onProgress: ProgressSink): Promise<PullResultInfo> {
    const controller = new AbortController()
    let settle = (): void => {}
    const pull: ActivePull = { ref, controller, settled: new Promise<void>((resolve) => { settle = resolve }) }
    this.active.add(pull)
    this.sources.set(ref, sources)
    const before = this.init.jobs.takePaused(ref)
    // progress continues from the paused job: done and total both grow by what it had stored
    const offset = before?.done ?? 0
    try {
      return await this.init.jobs.run('pull', ref, onProgress, async (progress) => {
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
          return info
        } catch (err) {
          // whatever the abort surfaced as (libp2p's AbortError, a stream reset), a pause is a pause
          if (controller.signal.aborted && controller.signal.reason instanceof PullPausedError) throw controller.signal.reason
          throw err
        }
      }, before === undefined ? undefined : { done: before.done, total: before.total })
    } finally {
      this.active.delete(pull)
      settle()
    }
  }

  private async save (): Promise<void> {
    await writeFileAtomic(this.init.stateFile, JSON.stringify({ paused: this.paused }) + '\n')
  }
}
