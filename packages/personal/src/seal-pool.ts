import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import type { Chunker } from '@cachecloud/chunker'
import { runJob, sealedOf, type SealJob, type SealKeys, type SealResult } from './seal-file.js'

/**
 * Where a scan's CPU work runs (reading small files, hashing, chunking,
 * compressing, sealing): on `threads` worker threads, or on the calling thread
 * when `threads` is 0. Both run seal-file.ts, so the sealed bytes, and with
 * them every CID of the snapshot, are the same either way.
 */
export interface Sealer {
  run(job: SealJob): Promise<SealResult>
  close(): Promise<void>
}

interface Thread { worker: Worker, pending: Map<number, { resolve: (r: SealResult) => void, reject: (e: Error) => void }> }

/** Default sealing threads: one per core (the calling thread mostly waits on the file system and the block store), at most 4. */
export function defaultSealThreads (): number {
  return Math.max(1, Math.min(4, availableParallelism()))
}

export function createSealer (keys: SealKeys, chunker: Chunker, threads: number): Sealer {
  if (threads <= 0) {
    return {
      run: async job => runJob(keys, chunker, job),
      close: async () => {}
    }
  }
  return new WorkerSealer(keys, threads)
}

class WorkerSealer implements Sealer {
  private readonly threads: Thread[] = []
  private nextId = 0
  private failed?: Error

  constructor (private readonly keys: SealKeys, private readonly size: number) {}

  async run (job: SealJob): Promise<SealResult> {
    if (this.failed !== undefined) throw this.failed
    const thread = this.pick()
    const id = this.nextId++
    return await new Promise<SealResult>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject })
      thread.worker.postMessage({ ...job, id })
    })
  }

  async close (): Promise<void> {
    const threads = this.threads.splice(0)
    await Promise.all(threads.map(async t => { await t.worker.terminate() }))
  }

  private pick (): Thread {
    if (this.threads.length < this.size && !this.threads.some(t => t.pending.size === 0)) return this.spawn()
    let best = this.threads[0]
    for (const t of this.threads) if (t.pending.size < best.pending.size) best = t
    return best
  }

  private spawn (): Thread {
    const keys = { chunkKey: this.keys.chunkKey, nonceKey: this.keys.nonceKey, gearKey: this.keys.gearKey }
    const worker = new Worker(new URL('./seal-worker.js', import.meta.url), { workerData: keys })
    const thread: Thread = { worker, pending: new Map() }
    worker.on('message', (reply: SealResult & { id: number }) => {
      const job = thread.pending.get(reply.id)
      if (job === undefined) return
      thread.pending.delete(reply.id)
      for (const list of sealedOf(reply)) {
        for (const chunk of list) chunk.bytes = Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength)
      }
      job.resolve(reply)
    })
    const failAll = (err: Error): void => {
      this.failed ??= err
      for (const job of thread.pending.values()) job.reject(err)
      thread.pending.clear()
      const at = this.threads.indexOf(thread)
      if (at >= 0) this.threads.splice(at, 1)
    }
    worker.on('error', failAll)
    worker.on('exit', code => { failAll(new Error(`sealing thread exited (${code})`)) })
    this.threads.push(thread)
    return thread
  }
}
