import type { Blockstore } from '@cachecloud/blockstore'
import type {
  CheckRequest, CheckResultInfo, DiffInfo, ExportRequest, ExportResultInfo, GcResultInfo, ImagesApi, ImageVersionInfo, ImportRequest, ImportResultInfo,
  ProgressSink, PruneRequest, PruneResultInfo, PullRequest, PullResultInfo, RemoveRequest, RemoveResultInfo
} from '@cachecloud/control'
import { formatVersionRef, parseVersionRef } from '@cachecloud/core'
import { diffManifests, exportImage, importImage, parseDiskFormat, throttledProgress, VersionIncompleteError, type Catalog, type CatalogEntry } from '@cachecloud/image'
import type { PublisherKey, TrustStore } from '@cachecloud/manifest'
import type { Swarm } from '@cachecloud/swarm'
import type { Logger } from 'pino'
import type { CachePointConfig } from './config.js'
import { DIFF_INDEXES_LISTED } from './constants.js'
import type { NbdExports } from './exports.js'
import { exportConverted } from './format-export.js'
import type { JobTracker } from './jobs.js'
import { createLifecycleParts } from './lifecycle-parts.js'
import type { Lifecycle } from './lifecycle.js'
import type { PersonalFolders } from './personal.js'
import type { Pulls } from './pulls.js'
import type { Recompression } from './recompression.js'

export interface DaemonImagesInit {
  config: CachePointConfig
  blockstore: Blockstore
  catalog: Catalog
  trust: TrustStore
  publisherKey: PublisherKey
  jobs: JobTracker
  pulls: Pulls
  swarm: Swarm
  /** What keeps a version from removal (served, overlays); gc asks it too. */
  exports: NbdExports
  /** Personal snapshots share the block store: gc keeps their blocks. */
  personal: PersonalFolders
  /** Recompression at rest: told of each version imported here. */
  recompression: Recompression
  /** The daemon's logger: imports and gc log on it, the lifecycle on a child. */
  logger: Logger
}

export function versionInfo (entry: CatalogEntry): ImageVersionInfo {
  return {
    name: entry.name,
    version: entry.version,
    cid: entry.cid.toString(),
    state: entry.state,
    size: entry.size,
    blockSize: entry.blockSize,
    createdAt: entry.createdAt,
    parent: entry.parent?.toString() ?? null,
    publisher: entry.publisher
  }
}

/** The daemon's `images` subsystem: the versions held, moved in (import, pull) and out (export), compared, removed, pruned, checked. */
export class DaemonImages implements ImagesApi {
  /** Retention after pulls, removal and prune. */
  readonly lifecycle: Lifecycle
  private readonly lifecycleApi: Pick<ImagesApi, 'remove' | 'prune' | 'check'>

  constructor (private readonly init: DaemonImagesInit) {
    const { config, catalog, blockstore, trust, swarm, exports, jobs, logger } = init
    const { lifecycle, api } = createLifecycleParts({
      config, catalog, blockstore, trust, swarm, exports, jobs: () => jobs.list(), logger: logger.child({ component: 'lifecycle' }),
      gc: async () => await this.gc(),
      pull: async (request, onProgress) => await this.pull(request, onProgress)
    })
    this.lifecycle = lifecycle
    this.lifecycleApi = api
  }

  async list (): Promise<ImageVersionInfo[]> {
    return (await this.init.catalog.list()).map(versionInfo)
  }

  async import (request: ImportRequest, onProgress: ProgressSink): Promise<ImportResultInfo> {
    const { blockstore, catalog, publisherKey, config, logger } = this.init
    const ref = formatVersionRef(parseVersionRef(`${request.name}@${request.version}`))
    return await this.init.jobs.run('import', ref, onProgress, async (progress) => {
      const { cid, stats } = await importImage({
        file: request.file,
        ...(request.format !== undefined ? { format: parseDiskFormat(request.format) } : {}),
        name: request.name,
        version: request.version,
        blockSize: request.blockSize ?? config.blockSize,
        ...(request.compressionLevel !== undefined ? { compressionLevel: request.compressionLevel } : {}),
        blockstore,
        catalog,
        key: publisherKey,
        onProgress: progress
      })
      logger.info({ ref, cid: cid.toString(), ...stats }, 'image imported')
      await this.init.recompression.imported(ref, request.compressionLevel)
      return { ref, cid: cid.toString(), ...stats }
    })
  }

  async pull (request: PullRequest, onProgress: ProgressSink): Promise<PullResultInfo> {
    return await this.init.pulls.pull(request, onProgress)
  }

  async export (request: ExportRequest, onProgress: ProgressSink): Promise<ExportResultInfo> {
    const { blockstore, catalog } = this.init
    const ref = parseVersionRef(request.ref)
    const entry = await catalog.get(ref)
    if (entry.state !== 'complete') {
      throw new VersionIncompleteError(`${request.ref} is still being pulled; finish it with: cachepoint image pull ${request.ref}`)
    }
    const manifest = await catalog.manifest(ref)
    const format = parseDiskFormat(request.format ?? 'raw')
    const overwrite = request.overwrite === true
    return await this.init.jobs.run('export', request.ref, onProgress, async (progress) => {
      const started = Date.now()
      if (format === 'raw') {
        await exportImage({ manifest, blockstore, file: request.file, overwrite, onProgress: progress })
      } else {
        const report = throttledProgress('export:block', manifest.size, progress)
        let read = 0
        await exportConverted({
          manifest,
          blockstore,
          format,
          file: request.file,
          overwrite,
          onRead: (n) => { read = Math.min(manifest.size, read + n); report(read) }
        })
      }
      return { ref: request.ref, file: request.file, size: manifest.size, durationMs: Date.now() - started }
    })
  }

  async diff (from: string, to: string): Promise<DiffInfo> {
    const { catalog } = this.init
    const [a, b] = await Promise.all([catalog.manifest(parseVersionRef(from)), catalog.manifest(parseVersionRef(to))])
    const d = diffManifests(a, b)
    return {
      from,
      to,
      blockSize: b.blockSize,
      changedBlocks: d.changed.length,
      addedBlocks: d.added.length,
      removedBlocks: d.removed.length,
      unchangedBlocks: Math.min(a.blocks.length, b.blocks.length) - d.changed.length,
      fetchBlocks: d.fetch.length,
      fetchBytes: d.fetchBytes,
      changed: d.changed.slice(0, DIFF_INDEXES_LISTED)
    }
  }

  async gc (): Promise<GcResultInfo> {
    const { blockstore, catalog, personal, logger } = this.init
    const live = await catalog.liveCids()
    // personal snapshots share the block store: their sealed chunks and directory blocks are live too
    const result = await personal.collect(async personalLive => await blockstore.gc(cid => live.has(cid.toString()) || personalLive.has(cid.toString())))
    logger.info(result, 'garbage collected')
    return result
  }

  async remove (request: RemoveRequest): Promise<RemoveResultInfo> { return await this.lifecycleApi.remove(request) }
  async prune (request: PruneRequest): Promise<PruneResultInfo> { return await this.lifecycleApi.prune(request) }
  async check (request: CheckRequest, onProgress: ProgressSink): Promise<CheckResultInfo> { return await this.lifecycleApi.check(request, onProgress) }
}
