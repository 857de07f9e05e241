/**
 * The store's block backend: where each user's blocks live. Three
 * implementations share one contract (test/backend-suite.ts): the local
 * directory (one pack block store per user, one process: the default), a
 * shared filesystem path (one file per block, several processes and hosts
 * at once) and S3-compatible object storage. Keys are content addresses, so
 * a put is idempotent and two processes putting the same block agree.
 * Layouts: docs/formats/dcstore.md#block-backends.
 */
import type { Blockstore } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'

export type BackendKind = 'local' | 'shared-fs' | 's3'

export interface BlockBackend {
  readonly kind: BackendKind
  /** Whether several store processes may write it at once (false: the data-directory lock keeps to one). */
  readonly multiWriter: boolean
  /** Whether the storage itself refuses to delete or overwrite a block before its retention ends (S3 object lock). */
  readonly worm: boolean
  start(): Promise<void>
  stop(): Promise<void>
  /** Stores a block (its bytes must hash to `cid`: BlockCorruptError; at most MAX_BACKEND_BLOCK_BYTES: BlockTooLargeError); one held already is not rewritten. True when newly written. Durable at the next `sync(user)`. */
  put(user: string, cid: CID, bytes: Uint8Array): Promise<boolean>
  /** The block, verified against its CID: BlockNotFoundError, BlockCorruptError (a torn or rotten copy is never returned). */
  get(user: string, cid: CID): Promise<Uint8Array>
  /** Held (durable, or put by this process since its last sync). */
  has(user: string, cid: CID): Promise<boolean>
  /** Bytes of a held block (undefined when not held), without reading it. */
  size(user: string, cid: CID): Promise<number | undefined>
  /** Every block held for the user (durable ones). */
  cids(user: string): AsyncIterable<CID>
  /** Removes a block (retention only); no error when absent. BackendWormError where object lock forbids it. */
  delete(user: string, cid: CID): Promise<void>
  /** Commit point: every block put for the user so far is durable. */
  sync(user: string): Promise<void>
  /** The user's blocks as the replication server, discovery and retention use them. */
  blockstore(user: string): Promise<Blockstore>
}
