import { open, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { processAlive } from '@cachecloud/core'
import { LOCK_FILE } from './constants.js'
import { DataDirLockedError } from './errors.js'

/**
 * One daemon per data directory: an exclusive lock file holding the pid.
 * A lock left by a killed process (pid no longer alive) is taken over.
 */
export async function lockDataDir (dataDir: string): Promise<() => Promise<void>> {
  const path = join(dataDir, LOCK_FILE)
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const handle = await open(path, 'wx', 0o644)
      await handle.writeFile(`${process.pid}\n`)
      await handle.close()
      return async () => { await rm(path, { force: true }) }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      const pid = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10)
      if (Number.isInteger(pid) && pid !== process.pid && processAlive(pid)) {
        throw new DataDirLockedError(`another CachePoint daemon (pid ${pid}) is using ${dataDir}`)
      }
      await rm(path, { force: true })
    }
  }
  throw new DataDirLockedError(`cannot lock ${dataDir}`)
}
