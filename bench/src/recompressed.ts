import type { LaunchedCachePoint } from 'cachepoint/launcher'

type Client = LaunchedCachePoint['client']

/** A publisher's recompression at rest of one imported version (config "restLevel", default 15), as its job reports it. */
export interface RecompressFigures {
  ref: string
  level: number
  blocks: number
  ms: number
  /** The node's stored bytes before the import and after the recompression. */
  storedBefore: number
  storedAfter: number
}

/** Waits for the node's recompression of `ref` (queued by its import) to end: its job done and the version off the queue. */
export async function recompressed (client: Client, ref: string, storedBefore: number): Promise<RecompressFigures> {
  for (;;) {
    const status = await client.status()
    const job = status.jobs.find(j => j.kind === 'recompress' && j.ref === ref)
    if (status.store.recompression.level === 0) return { ref, level: 0, blocks: 0, ms: 0, storedBefore, storedAfter: status.store.storedBytes }
    if (job?.state === 'failed') throw new Error(`recompression of ${ref} failed: ${job.error?.message ?? 'unknown'}`)
    if (job?.state === 'done' && status.store.recompression.pendingVersions === 0) {
      const ms = Date.parse(job.finishedAt ?? job.startedAt) - Date.parse(job.startedAt)
      return { ref, level: status.store.recompression.level, blocks: job.total, ms, storedBefore, storedAfter: status.store.storedBytes }
    }
    await new Promise(resolve => setTimeout(resolve, 200))
  }
}
