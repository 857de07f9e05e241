import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { processAlive } from '@cachecloud/core'

/** The pid of the daemon holding a data directory's lock, if one is alive. */
export async function daemonRunning (dataDir: string): Promise<number | undefined> {
  const { LOCK_FILE } = await import('@cachecloud/daemon/settings')
  const pid = Number.parseInt(await readFile(join(dataDir, LOCK_FILE), 'utf8').catch(() => ''), 10)
  return Number.isInteger(pid) && processAlive(pid) ? pid : undefined
}
