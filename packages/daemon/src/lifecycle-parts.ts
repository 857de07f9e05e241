import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import type { CheckRequest, CheckResultInfo, GcResultInfo, ImagesApi, JobInfo, ProgressSink, PruneRequest, PruneResultInfo, PullRequest, PullResultInfo, RemoveRequest, RemoveResultInfo } from '@cachecloud/control'
import { parseVersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import type { TrustStore } from '@cachecloud/manifest'
import type { Swarm } from '@cachecloud/swarm'
import type { CachePointConfig } from './config.js'
import type { NbdExports } from './exports.js'
import { runCheck, type IntegrityInit } from './integrity.js'
import { Lifecycle } from './lifecycle.js'

export interface LifecyclePartsInit {
  config: CachePointConfig
  catalog: Catalog
  blockstore: Blockstore
  trust: TrustStore
  swarm: Swarm
  exports: NbdExports
  jobs: () => JobInfo[]
  gc: () => Promise<GcResultInfo>
  /** A direct pull as a daemon job (the control API's pull). */
  pull: (request: PullRequest, onProgress: ProgressSink) => Promise<PullResultInfo>
  logger: Logger
}

/** What keeps a version from being removed now: NBD exports, overlays on it, pulls and exports running. */
async function versionsInUse (init: LifecyclePartsInit): Promise<Map<string, string>> {
  const use = new Map<string, string>()
  for (const e of await init.exports.list()) use.set(e.ref, `served over NBD at ${e.id}`)
  for (const o of await init.exports.overlays()) if (!use.has(o.ref)) use.set(o.ref, `base of overlay ${o.name} (discard it with: cachepoint image discard-overlay ${o.name})`)
  for (const p of init.swarm.status()) if (p.state === 'pulling' || p.state === 'resolving') use.set(p.ref, 'being pulled')
  for (const j of init.jobs()) if (j.state === 'running' && (j.kind === 'pull' || j.kind === 'export')) use.set(j.ref, j.kind === 'pull' ? 'being pulled' : 'being exported')
  return use
}

/** The daemon's version lifecycle (rm, prune, retention after pulls) and integrity check, over its started parts. */
export function createLifecycleParts (init: LifecyclePartsInit): { lifecycle: Lifecycle, api: Pick<ImagesApi, 'remove' | 'prune' | 'check'> } {
  const lifecycle = new Lifecycle({
    catalog: init.catalog,
    config: init.config,
    logger: init.logger,
    inUse: async () => await versionsInUse(init),
    subscribed: () => new Set(init.swarm.subscriptions().map(s => s.name)),
    jobs: init.jobs,
    gc: init.gc
  })
  const integrity: IntegrityInit = {
    catalog: init.catalog,
    blockstore: init.blockstore,
    trust: init.trust,
    logger: init.logger,
    pull: async (ref, from, onProgress) => {
      if ((from !== undefined && from.length > 0) || init.config.peers.length > 0) await init.pull({ ref, from }, onProgress)
      else await init.swarm.pull(parseVersionRef(ref))
    }
  }
  return {
    lifecycle,
    api: {
      remove: async (request: RemoveRequest): Promise<RemoveResultInfo> => await lifecycle.remove(request),
      prune: async (request: PruneRequest): Promise<PruneResultInfo> => await lifecycle.prune(request),
      check: async (request: CheckRequest, onProgress: ProgressSink): Promise<CheckResultInfo> => await runCheck(integrity, request, onProgress)
    }
  }
}
