import { connectToDaemon, type ControlClient } from '@cachecloud/control'
import { escapeTerminal } from '@cachecloud/core/escape'
import { configPathOf, dataDirOf, type GlobalOptions } from './paths.js'

/** The data directory in effect: from an explicit config file if one is named, else from --data-dir and the defaults. */
export async function resolveDataDir (options: GlobalOptions): Promise<string> {
  if (options.config !== undefined || process.env.CACHEPOINT_CONFIG !== undefined) {
    const { loadConfig } = await import('@cachecloud/daemon/settings')
    return (await loadConfig(await configPathOf(options))).dataDir
  }
  return dataDirOf(options)
}

export async function daemonClient (options: GlobalOptions): Promise<ControlClient> {
  return connectToDaemon(await resolveDataDir(options))
}

/** Prints a result: JSON for scripts with --json, else the human text. */
export function output (options: GlobalOptions, value: unknown, human: () => string): void {
  // JSON escapes control characters itself; human text may carry names from peers (site labels, errors, paths)
  process.stdout.write((options.json === true ? JSON.stringify(value, null, 2) : escapeTerminal(human())) + '\n')
}
