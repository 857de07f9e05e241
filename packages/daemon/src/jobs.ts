import { randomUUID } from 'node:crypto'
import type { CacheCloudError, ProgressEvent } from '@cachecloud/core'
import type { JobInfo, JobKind } from '@cachecloud/control'
import { FINISHED_JOBS_KEPT, RATE_WINDOW_MS } from './constants.js'

interface Sample { at: number, done: number }

class Job {
  readonly info: JobInfo
  private readonly samples: Sample[] = []

  constructor (kind: JobKind, ref: string) {
    this.info = { id: randomUUID(), kind, ref, state: 'running', done: 0, total: 0, unit: 'bytes', rate: 0, etaSeconds: null, startedAt: new Date().toISOString() }
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
    this.info.state = error === undefined ? 'done' : 'failed'
    this.info.finishedAt = new Date().toISOString()
    this.info.etaSeconds = error === undefined ? 0 : null
    if (error !== undefined) this.info.error = { code: (error as CacheCloudError).code ?? 'ERR_INTERNAL', message: error.message }
  }
}

/** Long operations of the daemon with rate and ETA, for `status` and the tray. */
export class JobTracker {
  private readonly jobs: Job[] = []

  /** Runs `work` as a job; its progress events update the job and are passed on to `forward`. */
  async run<T> (kind: JobKind, ref: string, forward: (event: ProgressEvent) => void, work: (onProgress: (event: ProgressEvent) => void) => Promise<T>): Promise<T> {
    const job = new Job(kind, ref)
    this.jobs.push(job)
    try {
      const result = await work((event) => { job.progress(event); forward(event) })
      job.finish()
      return result
    } catch (err) {
      job.finish(err as Error)
      throw err
    } finally {
      this.prune()
    }
  }

  list (): JobInfo[] {
    return this.jobs.map(job => ({ ...job.info }))
  }

  private prune (): void {
    let finished = this.jobs.filter(job => job.info.state !== 'running').length
    for (let i = 0; i < this.jobs.length && finished > FINISHED_JOBS_KEPT;) {
      if (this.jobs[i].info.state !== 'running') {
        this.jobs.splice(i, 1)
        finished--
      } else {
        i++
      }
    }
  }
}
