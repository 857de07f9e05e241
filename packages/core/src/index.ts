/**
 * @packageDocumentation
 *
 * The leaf of CacheCloud: block and manifest identifiers (CIDv1, sha2-256),
 * `NAME@VERSION` references, the error base class
 * and progress events. It depends on no other CacheCloud package.
 *
 * @example
 * ```ts
 * import { cidOf, parseVersionRef } from '@cachecloud/core'
 * const cid = cidOf(blockBytes)            // bafkrei...
 * const ref = parseVersionRef('win11@2026.11')
 * ```
 */
export * from './cid.js'
export * from './error-kinds.js'
export * from './errors.js'
export * from './escape.js'
export * from './fs-atomic.js'
export * from './process.js'
export * from './progress.js'
export * from './rate.js'
export * from './retry.js'
export * from './version-ref.js'
