import { ERROR_KINDS, EXIT_OK, exitCodeFor } from '@cachecloud/core'

/** Exit codes of the `cachepoint` CLI: core's kind table (ERROR_KINDS), documented in the README. */
export const EXIT = {
  ok: EXIT_OK,
  failure: ERROR_KINDS.internal.exitCode,
  usage: ERROR_KINDS.usage.exitCode,
  daemon: ERROR_KINDS.daemon.exitCode,
  notFound: ERROR_KINDS['not-found'].exitCode,
  exists: ERROR_KINDS.exists.exitCode,
  integrity: ERROR_KINDS.integrity.exitCode,
  network: ERROR_KINDS.network.exitCode,
  diskFull: ERROR_KINDS['disk-full'].exitCode,
  config: ERROR_KINDS.config.exitCode,
  paused: ERROR_KINDS.paused.exitCode,
  inUse: ERROR_KINDS['in-use'].exitCode,
  missingTool: ERROR_KINDS['missing-tool'].exitCode
} as const

/** The exit code for an error: from its kind, also for an error the daemon answered with over the control API. */
export { exitCodeFor }
