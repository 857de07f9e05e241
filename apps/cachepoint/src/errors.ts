import { CacheCloudError } from '@cachecloud/core'

/** Bad command-line input. */
export class UsageError extends CacheCloudError {
  static override name = 'UsageError'
  constructor (message: string) { super(message, 'ERR_USAGE') }
}

/** A file the command would create exists already (and is not overwritten). */
export class FileExistsError extends CacheCloudError {
  static override name = 'FileExistsError'
  constructor (message: string) { super(message, 'ERR_FILE_EXISTS') }
}

/** `config remove KEY VALUE`: the list holds no such value. */
export class ConfigValueNotFoundError extends CacheCloudError {
  static override name = 'ConfigValueNotFoundError'
  constructor (message: string) { super(message, 'ERR_CONFIG_VALUE_NOT_FOUND') }
}
