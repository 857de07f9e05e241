import { randomUUID } from 'node:crypto'
import { createRateWindow, isPaused, CacheCloudError, type ProgressEvent, type RateWindow } from '@cachecloud/core'
import type { JobInfo, JobKind } from '@cachecloud/control'
import { FINISHED_JOBS_KEPT } from './constants.js'

class Job {
  readonly info: JobInfo
  private readonly window: RateWindow

  constructor (kind: JobKind, ref: string, now: () => number, initial?: { done: number, total: number }) {
    this.info = { id: randomUUID(), kind, ref, state: 'running', done: initial?.done ?? 0, total: initial?.total ?? 0, unit: 'bytes', rate: 0, etaSeconds: null, startedAt: new Date().toISOString() }
    this.window = createRateWindow({ now })
  }

  progress (event: ProgressEvent): void {
    this.info.done = event.done
    this.info.total = event.total
    this.info.unit = event.unit ?? 'bytes'
    this.window.record(event.done, event.total)
  }

  finish (error?: CacheCloudError | Error): void {
    // a pull stopped by pause (PullPausedError, SwarmPausedError): its job ends `paused`, not `failed`
    const paused = error !== undefined && isPaused(error)
    this.info.state = error === undefined ? 'done' : paused ? 'paused' : 'failed'
    this.info.finishedAt = new Date().toISOString()
    if (error === undefined) this.window.finish()
    if (error !== undefined && !paused) this.info.error = { code: (error as CacheCloudError).code ?? 'ERR_INTERNAL', kind: error instanceof CacheCloudError ? error.kind : 'internal', message: error.message }
  }

  /** The job as status shows it: rate and ETA read now (a stalled job's rate falls); one that stopped short has neither. */
  view (): JobInfo {
    if (this.info.state === 'paused' || this.info.state === 'failed') return { ...this.info, rate: 0, etaSeconds: null }
    const { rate, etaSeconds } = this.window.read()
    return { ...this.info, rate: rate ?? 0, etaSeconds }
  }
}

/** Long operations of the daemon with rate and ETA, for `status` and the tray. */
export class JobTracker {
  private readonly jobs: Job[] = []

  /**
   * `onChange` is called on every job start, progress and end (the event stream throttles);
   * `now` is the rate windows' clock in ms (tests move one by hand).
   */
  constructor (private readonly onChange: () => void = () => {}, private readonly now: () => number = () => performance.now()) {}

  /**
   * Runs `work` as a job; its progress events update the job and are passed on to `forward`.
   * `initial` is where the job starts (a resumed pull starts where its paused job stopped).
   */
  async run<T> (
    kind: JobKind,
    ref: string,
    forward: (event: ProgressEvent) => void,
    work: (onProgress: (event: ProgressEvent) => void) => Promise<T>,
    initial?: { done: number, total: number }
  ): Promise<T> {
    const job = new Job(kind, ref, this.now, initial)
    this.jobs.push(job)
    this.onChange()
    try {
      const result = await work((event) => { job.progress(event); this.onChange(); forward(event) })
      job.finish()
      return result
    } catch (err) {
      job.finish(err as Error)
      throw err
    } finally {
      this.prune()
      this.onChange()
    }
  }

  /** Removes the paused jobs of `ref` (its pull runs again) and returns the last one. */
  takePaused (ref: string): JobInfo | undefined {
    let last: JobInfo | undefined
    for (let i = this.jobs.length - 1; i >= 0; i--) {
      const info = this.jobs[i].info
      if (info.kind === 'pull' && info.ref === ref && info.state === 'paused') {
        last ??= this.jobs[i].view()
        this.jobs.splice(i, 1)
      }
    }
    return last
  }

  list (): JobInfo[] {
    return this.jobs.map(job => job.view())
  }

  private prune (): void {
    // paused jobs stay: they are what resume continues
    const over = (job: Job): boolean => job.info.state === 'done' || job.info.state === 'failed'
    let finished = this.jobs.filter(over).length
    for (let i = 0; i < this.jobs.length && finished > FINISHED_JOBS_KEPT;) {
      if (over(this.jobs[i])) {
        this.jobs.splice(i, 1)
        finished--
      } else {
        i++
      }
    }
  }
}
