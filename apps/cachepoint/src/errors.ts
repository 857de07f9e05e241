import { CacheCloudError } from '@cachecloud/core'

/** Bad command-line input. */
export class UsageError extends CacheCloudError {
  static override name = 'UsageError'
  constructor (message: string) { super(message, 'ERR_USAGE', 'usage') }
}

/** A file the command would create exists already (and is not overwritten): core's FileExistsError. */
export { FileExistsError } from '@cachecloud/core'

/** `config remove KEY VALUE`: the list holds no such value. */
export class ConfigValueNotFoundError extends CacheCloudError {
  static override name = 'ConfigValueNotFoundError'
  constructor (message: string) { super(message, 'ERR_CONFIG_VALUE_NOT_FOUND', 'not-found') }
}

/** The daemon's connection ended in the middle of a command: it crashed or was stopped. */
export class DaemonGoneError extends CacheCloudError {
  static override name = 'DaemonGoneError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_DAEMON_GONE', 'daemon', options) }
}

/** Whether an error is the control connection dropping mid-answer (fetch's `terminated`, a reset socket) rather than a reply. */
export function isConnectionLost (err: unknown): boolean {
  if (!(err instanceof TypeError)) return false
  const code = (err.cause as { code?: unknown } | undefined)?.code
  return err.message === 'terminated' || code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'UND_ERR_CLOSED'
}
