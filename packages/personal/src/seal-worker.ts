/**
 * A sealing thread of the scan (seal-pool.ts): reads a small file whole,
 * hashes, chunks (keyed), compresses and seals it, or seals the chunks of a
 * piece of a large file; the sealed bytes are transferred back, not copied.
 * The same functions run on the calling thread without a pool, so a scan's
 * output does not depend on where it ran.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { createChunker } from '@cachecloud/chunker'
import { runJob, sealedOf, type SealJob, type SealKeys } from './seal-file.js'

const keys = workerData as SealKeys
const chunker = createChunker({ gearKey: keys.gearKey })

parentPort?.on('message', (job: SealJob & { id: number }) => {
  const result = runJob(keys, chunker, job)
  // every sealed block of the answer with its digest, and each file's hash and sealed entry, copied into one buffer, which is
  // moved, not copied: one transfer and one allocation for the receiver to collect instead of three per file
  // (and none of node's pooled buffers moved)
  const parts: Array<{ bytes: Uint8Array, put: (view: Uint8Array) => void }> = []
  for (const list of sealedOf(result)) {
    for (const chunk of list) parts.push({ bytes: chunk.bytes, put: v => { chunk.bytes = v } }, { bytes: chunk.sha256, put: v => { chunk.sha256 = v } })
  }
  if (result.t === 'files') {
    for (const r of result.results) {
      if (r.t !== 'file') continue
      parts.push({ bytes: r.entry, put: v => { r.entry = v } }, { bytes: r.sha256, put: v => { r.sha256 = v } })
    }
  }
  let total = 0
  for (const p of parts) total += p.bytes.byteLength
  const all = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    all.set(p.bytes, at)
    p.put(all.subarray(at, at + p.bytes.byteLength))
    at += p.bytes.byteLength
  }
  parentPort?.postMessage({ ...result, id: job.id }, [all.buffer])
})
