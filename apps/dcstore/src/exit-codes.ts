import { ERROR_KINDS, EXIT_OK, exitCodeFor } from '@cachecloud/core'

/** Same scheme as the cachepoint CLI: core's kind table (ERROR_KINDS); the codes dcstore's README lists. */
export const EXIT = {
  ok: EXIT_OK,
  failure: ERROR_KINDS.internal.exitCode,
  usage: ERROR_KINDS.usage.exitCode,
  notFound: ERROR_KINDS['not-found'].exitCode,
  integrity: ERROR_KINDS.integrity.exitCode,
  network: ERROR_KINDS.network.exitCode,
  inUse: ERROR_KINDS['in-use'].exitCode
} as const

/** The exit code for an error, from its kind (ENOENT is not found). */
export { exitCodeFor }
