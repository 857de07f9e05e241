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
  // every sealed block of the answer copied into one buffer, which is moved, not copied: one transfer and
  // one allocation for the receiver to collect instead of one per block (and none of node's pooled buffers moved)
  const lists = sealedOf(result)
  let total = 0
  for (const list of lists) for (const b of list) total += b.byteLength
  const all = new Uint8Array(total)
  let at = 0
  for (const list of lists) {
    for (const [i, b] of list.entries()) {
      all.set(b, at)
      list[i] = all.subarray(at, at + b.byteLength)
      at += b.byteLength
    }
  }
  parentPort?.postMessage({ ...result, id: job.id }, [all.buffer])
})
