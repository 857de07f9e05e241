import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

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

/**
 * The config file: --config, then $CACHEPOINT_CONFIG, then the data directory's.
 * The daemon package (and with it libp2p) is loaded only by the commands that
 * need it, so that commands which only talk to the control API start fast.
 */
export async function configPathOf (options: GlobalOptions): Promise<string> {
  const explicit = options.config ?? process.env.CACHEPOINT_CONFIG
  if (explicit !== undefined) return resolve(explicit)
  const { CONFIG_FILE } = await import('@cachecloud/daemon/settings')
  return join(dataDirOf(options), CONFIG_FILE)
}
