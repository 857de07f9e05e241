import { setTimeout as sleep } from 'node:timers/promises'
import { connectToDaemon, type StatusInfo } from '@cachecloud/control'

/** Delay before looking for the daemon again after it went away. */
export const RECONNECT_MS = 2000

/**
 * Follows the daemon of `dataDir` over its event stream: `onStatus` gets every
 * snapshot, and `undefined` whenever the daemon is not running; it is found
 * again when it starts (new port, read from the data directory). Ends when
 * `signal` aborts.
 */
export async function followDaemon (dataDir: string, onStatus: (status: StatusInfo | undefined) => void, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const client = await connectToDaemon(dataDir)
      await client.watchStatus(onStatus, { signal })
    } catch {
      if (signal.aborted) return
      onStatus(undefined)
    }
    await sleep(RECONNECT_MS, undefined, { signal }).catch(() => {})
  }
}
