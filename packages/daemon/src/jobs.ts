import { randomUUID } from 'node:crypto'
import { isPaused, type CacheCloudError, type ProgressEvent } from '@cachecloud/core'
import type { JobInfo, JobKind } from '@cachecloud/control'
import { FINISHED_JOBS_KEPT, RATE_WINDOW_MS } from './constants.js'

interface Sample { at: number, done: number }

class Job {
  readonly info: JobInfo
  private readonly samples: Sample[] = []

  constructor (kind: JobKind, ref: string, initial?: { done: number, total: number }) {
    this.info = { id: randomUUID(), kind, ref, state: 'running', done: initial?.done ?? 0, total: initial?.total ?? 0, unit: 'bytes', rate: 0, etaSeconds: null, startedAt: new Date().toISOString() }
  }

  progress (event: ProgressEvent): void {
    const now = Date.now()
    this.info.done = event.done
    this.info.total = event.total
    this.info.unit = event.unit ?? 'bytes'
    this.samples.push({ at: now, done: event.done })
    while (this.samples.length > 2 && now - this.samples[0].at > RATE_WINDOW_MS) this.samples.shift()
    const first = this.samples[0]
    const seconds = (now - first.at) / 1000
    this.info.rate = seconds > 0 ? (event.done - first.done) / seconds : 0
    this.info.etaSeconds = this.info.rate > 0 ? Math.max(0, (event.total - event.done) / this.info.rate) : null
  }

  finish (error?: CacheCloudError | Error): void {
    // a pull stopped by pause (PullPausedError, SwarmPausedError): its job ends `paused`, not `failed`
    const paused = error !== undefined && isPaused(error)
    this.info.state = error === undefined ? 'done' : paused ? 'paused' : 'failed'
    this.info.finishedAt = new Date().toISOString()
    this.info.etaSeconds = error === undefined ? 0 : null
    this.info.rate = error === undefined ? this.info.rate : 0
    if (error !== undefined && !paused) this.info.error = { code: (error as CacheCloudError).code ?? 'ERR_INTERNAL', message: error.message }
  }
}

/** Long operations of the daemon with rate and ETA, for `status` and the tray. */
export class JobTracker {
  private readonly jobs: Job[] = []

  /** `onChange` is called on every job start, progress and end (the event stream throttles). */
  constructor (private readonly onChange: () => void = () => {}) {}

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
    const job = new Job(kind, ref, initial)
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
        last ??= { ...info }
        this.jobs.splice(i, 1)
      }
    }
    return last
  }

  list (): JobInfo[] {
    return this.jobs.map(job => ({ ...job.info }))
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
