/**
 * Removing image versions (`image rm`) and retention (`image prune`, and
 * after every subscribed version that completes).
 *
 * Crash safety rests on the order of the durable steps: (1) the version's ref
 * file is unlinked and its directory fsynced (the version is gone, every
 * block still there); (2) gc drops the index entries of blocks no remaining
 * version (nor personal snapshot) references and commits, then reclaims
 * space, moving live blocks out of a sparse pack and committing their new
 * places before the old pack is deleted. A kill -9 between any two steps
 * leaves every remaining version's blocks indexed and readable, so each stays
 * complete and exportable; what is left behind is only garbage, which the
 * next gc (rm, prune, `image gc`) frees.
 */
import type { Logger } from 'pino'
import type { GcResultInfo, JobInfo, PruneDecision, PruneRequest, PruneResultInfo, RemoveRequest, RemoveResultInfo } from '@cachecloud/control'
import { formatVersionRef, parseVersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import { RetentionPolicyNotFoundError, VersionInUseError } from './errors.js'
import { applyRetention, policyFor, type RetentionConfig } from './retention.js'

export interface LifecycleInit {
  catalog: Catalog
  config: RetentionConfig
  logger: Logger
  /** NAME@VERSION -> why it must not be removed now (served over NBD, an overlay's base, being pulled or exported). */
  inUse: () => Promise<Map<string, string>>
  /** Names of the subscribed images. */
  subscribed: () => Set<string>
  jobs: () => JobInfo[]
  gc: () => Promise<GcResultInfo>
  now?: () => number
}

export class Lifecycle {
  /** One removal or prune at a time. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (private readonly init: LifecycleInit) {}

  async remove (request: RemoveRequest): Promise<RemoveResultInfo> {
    return await this.serial(async () => {
      const { catalog, logger } = this.init
      const ref = parseVersionRef(request.ref)
      const name = formatVersionRef(ref)
      const entry = await catalog.get(ref)
      const use = (await this.init.inUse()).get(name)
      if (use !== undefined) throw new VersionInUseError(`${name} is in use (${use}): nothing removed; stop that first`)
      if (request.force !== true && entry.state === 'complete' && this.init.subscribed().has(ref.name)) {
        const others = (await catalog.list()).filter(e => e.name === ref.name && e.version !== ref.version && e.state === 'complete')
        if (others.length === 0) throw new VersionInUseError(`${name} is the only complete version of subscribed image ${ref.name}: nothing removed (use --force to remove it anyway)`)
      }
      await catalog.remove(ref)
      logger.info({ ref: name, cid: entry.cid.toString() }, 'removed %s', name)
      return { ref: name, cid: entry.cid.toString(), ...await this.collect() }
    })
  }

  async prune (request: PruneRequest): Promise<PruneResultInfo> {
    return await this.serial(async () => await this.pruneNow(request))
  }

  /** A subscribed version completed: apply its image's policy (if any); failures are logged, never thrown. */
  afterPulled (ref: string): void {
    const { name } = parseVersionRef(ref)
    if (policyFor(this.init.config, name) === undefined) return
    this.prune({ name }).then(result => {
      if (result.removed.length > 0) this.init.logger.info({ ref, removed: result.removed.map(d => d.ref), gc: result.gc }, 'retention after %s: removed %s', ref, result.removed.map(d => d.ref).join(', '))
    }, (err: Error) => { this.init.logger.warn({ err, ref }, 'retention after %s failed: %s', ref, err.message) })
  }

  private async pruneNow (request: PruneRequest): Promise<PruneResultInfo> {
    const { catalog, config, logger } = this.init
    if (request.name !== undefined && policyFor(config, request.name) === undefined) {
      throw new RetentionPolicyNotFoundError(`image ${JSON.stringify(request.name)} has no retention policy (config "retention": { "${request.name}": { "keepLast": N } })`)
    }
    const entries = await catalog.list()
    const names = [...new Set(entries.map(e => e.name))].filter(n => (request.name === undefined || n === request.name) && policyFor(config, n) !== undefined)
    const inUse = await this.init.inUse()
    const subscribed = this.init.subscribed()
    const now = (this.init.now ?? Date.now)()
    const removed: PruneDecision[] = []
    const kept: PruneDecision[] = []
    for (const name of names) {
      const plan = applyRetention(
        { versions: entries.filter(e => e.name === name), rule: policyFor(config, name) ?? {}, now, inUse, subscribed: subscribed.has(name) }
      )
      removed.push(...plan.remove)
      kept.push(...plan.keep)
    }
    if (request.dryRun === true) return { dryRun: true, removed, kept, gc: null }
    for (const decision of removed) {
      await catalog.remove(parseVersionRef(decision.ref))
      logger.info({ ref: decision.ref }, 'retention removed %s', decision.ref)
    }
    return { dryRun: false, removed, kept, ...(removed.length > 0 ? await this.collect() : { gc: null }) }
  }

  /** gc now, unless an import is running (its blocks are not referenced by the catalog until it ends). */
  private async collect (): Promise<{ gc: GcResultInfo | null, gcDeferred?: string }> {
    const importing = this.init.jobs().find(j => j.kind === 'import' && j.state === 'running')
    if (importing !== undefined) {
      const gcDeferred = `an import of ${importing.ref} is running; its blocks are not in the catalog yet: run cachepoint image gc after it to free the space`
      this.init.logger.info({ importing: importing.ref }, 'gc deferred: %s', gcDeferred)
      return { gc: null, gcDeferred }
    }
    return { gc: await this.init.gc() }
  }

  private async serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return await run
  }
}
