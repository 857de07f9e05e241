// The extraction worker: one file at a time, so that a file that takes too
// long or too much memory ends only this thread (text-extractor.ts).
import { parentPort } from 'node:worker_threads'
import { extractText, ExtractRefused } from './text-extract.js'

parentPort?.on('message', (m: { id: number, path: string, bytes: Uint8Array }) => {
  extractText(m.path, m.bytes).then(
    r => { parentPort?.postMessage({ id: m.id, ok: true, ...r }) },
    (err: unknown) => {
      const status = err instanceof ExtractRefused ? err.status : 'failed'
      parentPort?.postMessage({ id: m.id, ok: false, status, reason: String((err as Error)?.message ?? err).slice(0, 500) })
    })
})
