import { homedir } from 'node:os'
import { join, resolve } from 'node:path'
import { CONFIG_FILE } from '@cachecloud/daemon'

export interface GlobalOptions {
  /** Data directory; its config.json is the config. */
  dataDir?: string
  /** An explicit config file (its dataDir field names the data directory). */
  config?: string
  json?: boolean
}

/** The data directory: --data-dir, then $CACHEPOINT_HOME, then ~/.cachepoint. */
export function dataDirOf (options: GlobalOptions): string {
  return resolve(options.dataDir ?? process.env.CACHEPOINT_HOME ?? join(homedir(), '.cachepoint'))
}

/** The config file: --config, then $CACHEPOINT_CONFIG, then config.json in the data directory. */
export function configPathOf (options: GlobalOptions): string {
  const explicit = options.config ?? process.env.CACHEPOINT_CONFIG
  return explicit !== undefined ? resolve(explicit) : join(dataDirOf(options), CONFIG_FILE)
}
