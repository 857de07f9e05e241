/**
 * @packageDocumentation
 *
 * An image version as a block device (the `BlockDevice` of @cachecloud/nbd) that works before the
 * version has arrived: a read of blocks this node holds is served from the block store; a read of
 * blocks it lacks fetches them at once from peers whose have answers hold them (ahead of the
 * background pull, which is told and skips them), verified against their CIDs before they are
 * stored and returned; holes read as zeros with no network. No block within the fetch timeout:
 * the read fails with BlockUnavailableError (an NBD client gets EIO), it never hangs.
 *
 * @example
 * ```ts
 * const { cid, manifest } = await swarm.resolve(ref)
 * const device = createImageDevice({ libp2p, blockstore, manifest, manifestCid: cid, onBlockStored: b => swarm.blockStored(cid, b) })
 * const nbd = createNbdServer({ exports: [{ name: 'win11@v2', device }], port: 10809 })
 * ```
 */
import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { CID } from '@cachecloud/core'
import type { ImageManifest } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import type { BlockDevice } from '@cachecloud/nbd'
import { SwarmImageDevice } from './device.js'
import type { ImageDeviceStats } from './stats.js'

export interface ImageDeviceInit {
  libp2p: Libp2p
  blockstore: Blockstore
  manifest: ImageManifest
  manifestCid: CID
  /** This node's site label: same-site peers are asked first. */
  site?: string
  /** A read fails when its missing blocks have not arrived after this long. Default DEFAULT_FETCH_TIMEOUT_MS. */
  fetchTimeoutMs?: number
  /** Default DEFAULT_HAVE_MAX_AGE_MS. */
  haveMaxAgeMs?: number
  logger?: Logger
  /** A block was fetched from `peer` for a read and stored (e.g. tell the background pull with swarm.blockStored). */
  onBlockStored?: (block: CID, peer: string) => void
  /** A fetch for a read starts; the function returned is called HOLD_GRACE_MS after it ends (e.g. swarm.holdBack: the background pull yields meanwhile). */
  onFetch?: () => () => void
  /** Waits until `bytes` more may be read from `peer`: reads on demand from peers of other sites spend the WAN budget too (swarm.receiveBudget). */
  receiveBudget?: (peer: string, bytes: number) => Promise<void>
}

export interface ImageDevice extends BlockDevice {
  stats(): ImageDeviceStats
  /** Reads in progress fail; later reads still work from local blocks. */
  close(): void
}

export function createImageDevice (init: ImageDeviceInit): ImageDevice {
  return new SwarmImageDevice(init)
}

export * from './constants.js'
export * from './errors.js'
export type { ImageDeviceStats } from './stats.js'
export { OnDemandScheduler } from './scheduler.js'
