import { Worker } from 'node:worker_threads'
import { TEXT_WORKER_HEAP_MB } from './constants.js'
import { extractText, kindOf, type TextKind } from './text-extract.js'

export type Extracted =
  | { ok: true, kind: TextKind, text: string, truncated: boolean }
  | { ok: false, status: 'unsupported' | 'failed' | 'timeout', reason: string }

/**
 * Runs text extraction in a worker thread with a time limit per file and a
 * bounded heap: a file that runs over ends the worker (the next file gets a
 * new one) and is reported as timed out; one that breaks it, as failed.
 */
export class TextExtractor {
  private worker?: Worker
  private seq = 0

  constructor (private readonly timeoutMs: number) {}

  private spawn (): Worker {
    this.worker ??= new Worker(new URL('./text-worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: TEXT_WORKER_HEAP_MB } })
    this.worker.unref()
    return this.worker
  }

  async extract (path: string, bytes: Uint8Array): Promise<Extracted> {
    // plain text is decoded here (bounded by the file size limit, no parser to get stuck in); documents go to the worker
    if (kindOf(path, bytes.subarray(0, 8192)) === 'text' && !/\.(x?html?|xml)$/i.test(path)) return { ok: true, ...await extractText(path, bytes) }
    const worker = this.spawn()
    const id = ++this.seq
    return await new Promise<Extracted>(resolve => {
      const done = (r: Extracted, kill: boolean): void => {
        clearTimeout(timer)
        worker.off('message', onMessage); worker.off('error', onError); worker.off('exit', onExit)
        if (kill) { this.worker = undefined; void worker.terminate() }
        resolve(r)
      }
      const onMessage = (m: Extracted & { id: number }): void => { if (m.id === id) { const { id: _id, ...r } = m; done(r as Extracted, false) } }
      const onError = (err: Error): void => { done({ ok: false, status: 'failed', reason: `extraction failed: ${err.message}`.slice(0, 500) }, true) }
      const onExit = (): void => { done({ ok: false, status: 'failed', reason: 'the extraction worker ended' }, true) }
      const timer = setTimeout(() => { done({ ok: false, status: 'timeout', reason: `text extraction took longer than ${this.timeoutMs} ms` }, true) }, this.timeoutMs)
      worker.on('message', onMessage); worker.on('error', onError); worker.on('exit', onExit)
      worker.postMessage({ id, path, bytes })
    })
  }

  async stop (): Promise<void> {
    const w = this.worker
    this.worker = undefined
    await w?.terminate()
  }
}
