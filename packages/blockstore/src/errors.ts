import { CacheCloudError } from '@cachecloud/core'

export class BlockNotFoundError extends CacheCloudError {
  static override name = 'BlockNotFoundError'
  constructor (message: string) { super(message, 'ERR_BLOCK_NOT_FOUND', 'not-found') }
}

/** Bytes that do not hash to their CID: refused on put, removed and reported on get. */
export class BlockCorruptError extends CacheCloudError {
  static override name = 'BlockCorruptError'
  constructor (message: string) { super(message, 'ERR_BLOCK_CORRUPT', 'integrity') }
}

/** ENOSPC or EDQUOT while writing; nothing was stored. */
export class DiskFullError extends CacheCloudError {
  static override name = 'DiskFullError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_DISK_FULL', 'disk-full', options) }
}

/** The directory holds a store of an unknown layout version, or is not a block store. */
export class BlockstoreFormatError extends CacheCloudError {
  static override name = 'BlockstoreFormatError'
  constructor (message: string) { super(message, 'ERR_BLOCKSTORE_FORMAT', 'integrity') }
}

export class BlockTooLargeError extends CacheCloudError {
  static override name = 'BlockTooLargeError'
  constructor (message: string) { super(message, 'ERR_BLOCK_TOO_LARGE', 'integrity') }
}

/** A CID the store cannot hold: only CIDv1 with a sha2-256 multihash. */
export class UnsupportedCidError extends CacheCloudError {
  static override name = 'UnsupportedCidError'
  constructor (message: string) { super(message, 'ERR_UNSUPPORTED_CID', 'integrity') }
}

/** An operation on a store that is not started (or already stopped). */
export class BlockstoreClosedError extends CacheCloudError {
  static override name = 'BlockstoreClosedError'
  constructor (message: string) { super(message, 'ERR_BLOCKSTORE_CLOSED', 'internal') }
}
