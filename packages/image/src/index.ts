/**
 * @packageDocumentation
 *
 * Images and their versions: streaming import of a raw disk image into
 * fixed-size aligned blocks (all-zero blocks become holes), sparse export
 * bit-identical to the original, diff between versions, a new version from
 * the blocks written on top of another (`commitVersion`: linked clones), and the catalog of
 * versions a node holds (NAME@VERSION -> manifest CID, complete or pulling).
 *
 * @example
 * ```ts
 * const catalog = createCatalog({ path: dir + '/catalog', blockstore })
 * await catalog.start()
 * const { cid, manifest } = await importImage({ file: 'disk.raw', name: 'win11', version: 'v1', blockstore, catalog, key })
 * await exportImage({ manifest, blockstore, file: 'copy.raw' })
 * const d = diffManifests(v1, manifest)
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export * from './catalog.js'
export * from './diff.js'
export * from './completeness.js'
export * from './check.js'
export * from './import.js'
export * from './export.js'
export * from './commit.js'
export * from './disk-format.js'
export * from './image-source.js'
export { convertFromNbd, diskInfo, findTool, type DiskInfo } from './qemu-img.js'
export { throttledProgress } from './progress.js'
