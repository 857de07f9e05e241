import { CacheCloudError } from '@cachecloud/core'
import { NBD_EIO } from './constants.js'

/** A device operation failed with a given NBD error value (errno), sent to the client in the reply. */
export class DeviceError extends CacheCloudError {
  static override name = 'DeviceError'
  constructor (message: string, readonly errno: number = NBD_EIO, options?: ErrorOptions) { super(message, 'ERR_DEVICE', 'internal', options) }
}

/** The NBD listen address is taken by another process. */
export class AddressInUseError extends CacheCloudError {
  static override name = 'AddressInUseError'
  constructor (message: string, options?: ErrorOptions) { super(message, 'ERR_ADDRESS_IN_USE', 'in-use', options) }
}

/** The NBD listen address is malformed or not local to this machine. */
export class InvalidAddressError extends CacheCloudError {
  static override name = 'InvalidAddressError'
  constructor (message: string) { super(message, 'ERR_INVALID_ADDRESS', 'usage') }
}

/** A client broke the protocol (bad magic, oversized option or write); its connection is closed. */
export class NbdProtocolError extends CacheCloudError {
  static override name = 'NbdProtocolError'
  constructor (message: string) { super(message, 'ERR_NBD_PROTOCOL', 'network') }
}

/** An overlay's directory holds something else (another base image, another format). */
export class OverlayMismatchError extends CacheCloudError {
  static override name = 'OverlayMismatchError'
  constructor (message: string) { super(message, 'ERR_OVERLAY_MISMATCH', 'in-use') }
}

/** The overlay is the base of a clone (frozen): it may be read, committed or cloned again, not written. */
export class OverlayFrozenError extends CacheCloudError {
  static override name = 'OverlayFrozenError'
  constructor (message: string) { super(message, 'ERR_OVERLAY_FROZEN', 'in-use') }
}
