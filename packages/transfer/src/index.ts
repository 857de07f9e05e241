/**
 * @packageDocumentation
 *
 * Block exchange between CachePoints over libp2p. Three versioned protocols
 * (docs/formats.md#protocols): the catalog of versions a peer holds, manifest
 * by CID, and pipelined block batches with length-prefixed, bounded frames.
 * A pull fetches only the blocks this node lacks, verifies each against its
 * CID before storing it, commits in batches, and resumes after interruption.
 *
 * @example
 * ```ts
 * const transfer = createTransfer({ libp2p, blockstore, catalog, trust, logger })
 * await transfer.start()
 * const result = await transfer.pull({ ref: { name: 'win11', version: 'v2' }, peers: [addr], onProgress })
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export * from './wire.js'
export * from './transfer.js'
