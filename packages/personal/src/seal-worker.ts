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
  const transfer: ArrayBuffer[] = []
  for (const list of sealedOf(result)) {
    for (const [i, b] of list.entries()) {
      // a small Buffer may share node's allocation pool: such a one is copied, the others are moved
      const own = b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : new Uint8Array(b)
      list[i] = own
      transfer.push(own.buffer as ArrayBuffer)
    }
  }
  parentPort?.postMessage({ ...result, id: job.id }, transfer)
})
