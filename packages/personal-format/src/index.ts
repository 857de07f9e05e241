/**
 * @packageDocumentation
 *
 * The formats of personal folders, without the engine that makes them: what
 * the data-center store needs to check, index and export what nodes send.
 * Sealing (XChaCha20-Poly1305 chunks and directory entries, keys wrapped for
 * the discovery key), directory trees and deltas, snapshot records and their
 * signatures, the replication and read protocols' messages, and reading a
 * tree back (walk, restore into a folder without following links). The engine
 * (scan, sync, merge, restore from the store, replication) is
 * `@cachecloud/personal`. Formats: docs/formats/personal.md.
 */
export * from './constants.js'
export * from './errors.js'
export * from './crypto.js'
export { chunkInner, decodeChunkInner, openChunk, sealChunk, type ChunkFormat } from './chunk-seal.js'
export * from './tree.js'
export * from './walk.js'
export * from './wire.js'
export * from './read-wire.js'
export { applyDirDelta, deltaBody, encodeDirDelta, type DirDelta } from './delta.js'
export { deriveSigningKey, signRecord, verifyRecord, type SigningKey } from './sign.js'
export { restoreTree, writeRestoredFile, type RestoreResult } from './restore.js'
export { SafeFolder, pathParts, RESTORED_MODE_MASK, type WriteMeta } from './safe-path.js'
