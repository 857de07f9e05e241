/**
 * Codec work on worker threads, so the calling thread keeps to the transport
 * and the pack writes: compression of imported blocks (zstd at level 3 runs
 * at about a tenth of SHA-256's speed per core), and the check of blocks
 * received from peers (decode + SHA-256 + crc32: most of a pull's CPU once
 * the transport is paid). A block is copied once to its worker (structured
 * clone) and comes back transferred. Work goes to the least-loaded thread.
 *
 * Jobs are posted in batches: the jobs asked for in one turn of the event
 * loop travel to a thread in one message, and their answers come back in one.
 * A message costs tens of microseconds of the calling thread whatever it
 * carries; one per block was a tenth of a pull's main-thread time.
 */
import { availableParallelism } from 'node:os'
import { Worker } from 'node:worker_threads'
import { CODEC_RAW } from './constants.js'
import type { Reply, Request } from './codec-worker.js'
import type { BlockCheck, EncodedBlock, Reencoded, StoredRecord } from './index.js'

type Answer = (reply: Reply) => void
interface Pending { answer: Answer, reject: (err: Error) => void }
interface Thread {
  worker: Worker
  pending: Map<number, Pending>
  /** Jobs not yet posted, and what they transfer; posted together on the next turn of the event loop. */
  outbox: Request[]
  transfer: ArrayBuffer[]
  flush?: ReturnType<typeof setImmediate>
}
/** A request before its id is given. */
type Job = Request extends infer R ? R extends { id: number } ? Omit<R, 'id'> : never : never

export class WorkerCodecPool {
  private readonly threads: Thread[] = []
  private nextId = 0
  private closed = false

  constructor (private readonly level: number, private readonly size: number, private readonly nice?: number) {}

  async encode (raw: Uint8Array, level = this.level): Promise<EncodedBlock> {
    const reply = await this.run({ op: 'encode', raw, level })
    if (reply.op !== 'encode') throw new Error('codec thread answered the wrong job')
    return reply.bytes === undefined
      ? { codec: CODEC_RAW, bytes: raw, length: reply.length }
      : { codec: reply.codec, bytes: asBuffer(reply.bytes), length: reply.length }
  }

  async check (block: EncodedBlock, digest: Uint8Array, maxLength: number, move = false): Promise<BlockCheck> {
    const transfer = move ? [block.bytes.buffer as ArrayBuffer] : []
    const reply = await this.run({ op: 'check', codec: block.codec, bytes: block.bytes, length: block.length, maxLength, digest }, transfer)
    if (reply.op !== 'check') throw new Error('codec thread answered the wrong job')
    const bytes = asBuffer(reply.bytes)
    return reply.crc === undefined ? { problem: reply.problem ?? 'check failed' } : { block: { codec: block.codec, bytes, length: block.length }, crc: reply.crc }
  }

  async verifyRecords (bytes: Uint8Array, records: StoredRecord[], maxLength: number, move = false): Promise<Array<string | undefined>> {
    const reply = await this.run({ op: 'verifyRecords', bytes, records, maxLength }, move ? [bytes.buffer as ArrayBuffer] : [])
    if (reply.op !== 'verifyRecords') throw new Error('codec thread answered the wrong job')
    return reply.problems
  }

  async reencode (block: EncodedBlock, digest: Uint8Array, maxLength: number, level: number): Promise<Reencoded> {
    const reply = await this.run({ op: 'reencode', codec: block.codec, bytes: block.bytes, length: block.length, maxLength, digest, level })
    if (reply.op !== 'reencode') throw new Error('codec thread answered the wrong job')
    if (reply.bytes === undefined) return { problem: reply.problem ?? 'reencode failed' }
    return { block: { codec: reply.codec, bytes: asBuffer(reply.bytes), length: reply.length } }
  }

  async close (): Promise<void> {
    this.closed = true
    const threads = this.threads.splice(0)
    await Promise.all(threads.map(async t => { await t.worker.terminate() }))
  }

  private async run (job: Job, transfer: ArrayBuffer[] = []): Promise<Reply> {
    if (this.closed) throw new Error('codec pool is closed')
    const thread = this.pick()
    const id = this.nextId++
    return await new Promise<Reply>((resolve, reject) => {
      thread.pending.set(id, { answer: resolve, reject })
      thread.outbox.push({ ...job, id } as Request)
      thread.transfer.push(...transfer)
      thread.flush ??= setImmediate(() => { this.post(thread) })
    })
  }

  private post (thread: Thread): void {
    thread.flush = undefined
    const batch = thread.outbox.splice(0)
    // one buffer listed twice would make postMessage throw
    const transfer = [...new Set(thread.transfer.splice(0))]
    if (batch.length > 0) thread.worker.postMessage(batch, transfer)
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
    const worker = new Worker(new URL('./codec-worker.js', import.meta.url), { workerData: { level: this.level, ...(this.nice === undefined ? {} : { nice: this.nice }) } })
    worker.unref()
    const thread: Thread = { worker, pending: new Map(), outbox: [], transfer: [] }
    worker.on('message', (replies: Reply[]) => {
      for (const reply of replies) {
        const job = thread.pending.get(reply.id)
        if (job === undefined) continue
        thread.pending.delete(reply.id)
        job.answer(reply)
      }
    })
    const failAll = (err: Error): void => {
      if (thread.flush !== undefined) clearImmediate(thread.flush)
      thread.outbox.length = 0
      thread.transfer.length = 0
      for (const job of thread.pending.values()) job.reject(err)
      thread.pending.clear()
      const at = this.threads.indexOf(thread)
      if (at >= 0) this.threads.splice(at, 1)
    }
    worker.on('error', failAll)
    worker.on('exit', code => { failAll(new Error(`codec thread exited (${code})`)) })
    this.threads.push(thread)
    return thread
  }
}

function asBuffer (bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Threads a pool uses by default: all but one core (the caller hashes and writes), at least one. */
export function defaultCodecThreads (): number {
  return Math.max(1, Math.min(8, availableParallelism() - 1))
}
