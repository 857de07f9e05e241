/**
 * Compression on worker threads, so an import hashes and writes on the main
 * thread while blocks are compressed on the others (zstd at level 3 runs at
 * about a tenth of SHA-256's speed per core). A raw block is copied once to
 * its worker; a block that does not shrink comes back as the caller's own
 * bytes. Work goes to the least-loaded thread.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { CODEC_RAW } from './constants.js'
import type { Codec, EncodedBlock } from './index.js'

interface Reply { id: number, codec: Codec, bytes?: Uint8Array, length: number }
interface Pending { raw: Uint8Array, resolve: (block: EncodedBlock) => void, reject: (err: Error) => void }
interface Thread { worker: Worker, pending: Map<number, Pending> }

export class WorkerEncoderPool {
  private readonly threads: Thread[] = []
  private nextId = 0
  private closed = false

  constructor (private readonly level: number, private readonly size: number) {}

  async encode (raw: Uint8Array, level = this.level): Promise<EncodedBlock> {
    if (this.closed) throw new Error('encoder pool is closed')
    const thread = this.pick()
    const id = this.nextId++
    return await new Promise<EncodedBlock>((resolve, reject) => {
      thread.pending.set(id, { raw, resolve, reject })
      thread.worker.postMessage({ id, raw, level })
    })
  }

  async close (): Promise<void> {
    this.closed = true
    const threads = this.threads.splice(0)
    await Promise.all(threads.map(async t => { await t.worker.terminate() }))
  }

  private pick (): Thread {
    if (this.threads.length < this.size) {
      const idle = this.threads.find(t => t.pending.size === 0)
      if (idle !== undefined) return idle
      return this.spawn()
    }
    let best = this.threads[0] as Thread
    for (const t of this.threads) if (t.pending.size < best.pending.size) best = t
    return best
  }

  private spawn (): Thread {
    const worker = new Worker(new URL('./encode-worker.js', import.meta.url), { workerData: { level: this.level } })
    worker.unref()
    const thread: Thread = { worker, pending: new Map() }
    worker.on('message', (reply: Reply) => {
      const job = thread.pending.get(reply.id)
      if (job === undefined) return
      thread.pending.delete(reply.id)
      job.resolve(reply.bytes === undefined
        ? { codec: CODEC_RAW, bytes: job.raw, length: reply.length }
        : { codec: reply.codec, bytes: Buffer.from(reply.bytes.buffer, reply.bytes.byteOffset, reply.bytes.byteLength), length: reply.length })
    })
    const failAll = (err: Error): void => {
      for (const job of thread.pending.values()) job.reject(err)
      thread.pending.clear()
      const at = this.threads.indexOf(thread)
      if (at >= 0) this.threads.splice(at, 1)
    }
    worker.on('error', failAll)
    worker.on('exit', code => { failAll(new Error(`compression thread exited (${code})`)) })
    this.threads.push(thread)
    return thread
  }
}

/** Threads a pool uses by default: all but one core (the caller hashes and writes), at least one. */
export function defaultEncoderThreads (): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1))
}
