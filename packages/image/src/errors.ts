import { CacheCloudError } from '@cachecloud/core'

/** The image file to import is missing, unreadable or empty, or an export target cannot be written. */
export class ImageFileError extends CacheCloudError {
  static override name = 'ImageFileError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_IMAGE_FILE', 'not-found', options) }
}

export class InvalidBlockSizeError extends CacheCloudError {
  static override name = 'InvalidBlockSizeError'
  constructor (message: string) { super(message, 'ERR_INVALID_BLOCK_SIZE', 'usage') }
}

/** NAME@VERSION is already in the catalog (with a different manifest). */
export class VersionExistsError extends CacheCloudError {
  static override name = 'VersionExistsError'
  constructor (message: string) { super(message, 'ERR_VERSION_EXISTS', 'exists') }
}

/** No version of that image name is held. */
export class ImageNotFoundError extends CacheCloudError {
  static override name = 'ImageNotFoundError'
  constructor (message: string) { super(message, 'ERR_IMAGE_NOT_FOUND', 'not-found') }
}

/** The image is held, but not that version. */
export class VersionNotFoundError extends CacheCloudError {
  static override name = 'VersionNotFoundError'
  constructor (message: string) { super(message, 'ERR_VERSION_NOT_FOUND', 'not-found') }
}

/** A block of the version is missing or damaged in the block store. */
export class VersionIncompleteError extends CacheCloudError {
  static override name = 'VersionIncompleteError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_VERSION_INCOMPLETE', 'not-found', options) }
}

/** The export target exists and `overwrite` was not set: core's FileExistsError, re-exported where it was. */
export { FileExistsError } from '@cachecloud/core'

/** A catalog ref file is unreadable or malformed. (A damaged manifest throws the manifest package's InvalidManifestError.) */
export class CatalogCorruptError extends CacheCloudError {
  static override name = 'CatalogCorruptError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_CATALOG_CORRUPT', 'integrity', options) }
}

/** The export target is not something an image can be written to: a character device, FIFO, socket, directory, symlink or a too-small block device. */
export class ExportTargetError extends CacheCloudError {
  static override name = 'ExportTargetError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_INVALID_EXPORT_TARGET', 'usage', options) }
}

/** `--format` names no disk format CacheCloud converts, or the file is of a format it does not take. */
export class UnsupportedDiskFormatError extends CacheCloudError {
  static override name = 'UnsupportedDiskFormatError'
  constructor (message: string) { super(message, 'ERR_UNSUPPORTED_DISK_FORMAT', 'usage') }
}

/** qemu-img (or qemu-nbd, nbdcopy) could not read the image as its format: damaged, truncated, or not that format. */
export class CorruptImageFileError extends CacheCloudError {
  static override name = 'CorruptImageFileError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_CORRUPT_IMAGE_FILE', 'integrity', options) }
}

/** A tool a disk format needs (qemu-img, qemu-nbd, nbdcopy) is not installed. */
export class DiskToolMissingError extends CacheCloudError {
  static override name = 'DiskToolMissingError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_DISK_TOOL_MISSING', 'missing-tool', options) }
}

/** The writes to commit do not cover exactly the base version (another size). */
export class CommitSizeMismatchError extends CacheCloudError {
  static override name = 'CommitSizeMismatchError'
  constructor (message: string) { super(message, 'ERR_COMMIT_SIZE_MISMATCH', 'integrity') }
}
