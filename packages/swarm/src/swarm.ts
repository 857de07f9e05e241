import type { Libp2p, PeerId } from '@libp2p/interface'
import { DEFAULT_PULL_RETRY, formatVersionRef, retryDelay, type CID, type RetryPolicy, type VersionRef } from '@cachecloud/core'
import { type ImageManifest } from '@cachecloud/manifest'
import { peerSite, type CachePointPubSub, type PubSubMessage } from '@cachecloud/network'
import type { Swarm, SwarmInit, SwarmPullResult, Subscription, SwarmCounters } from './index.js'
import { announceTopic, newestOffered, topicImage } from './announce.js'
import { encodeSignedAnnouncement } from './announce-signing.js'
import { AnnouncementGate } from './announce-gate.js'
import { DEFAULT_ROLLOUT_INTERVAL_MS, MAX_ANNOUNCERS_KEPT, MAX_FINISHED_PULLS_KEPT, DEFAULT_CATCH_UP_INTERVAL_MS, DEFAULT_HAVE_INTERVAL_MS, DEFAULT_HAVE_TIMEOUT_MS } from './constants.js'
import { handleHave } from './have.js'
import { handleSizes } from './sizes.js'
import { HoldingsTable } from './holdings.js'
import { resolveManifest, type ManifestHint } from './offers.js'
import { NoPublisherKeyError, SwarmPausedError } from './errors.js'
import { formatPublicKey, UntrustedPublisherError } from '@cachecloud/manifest'
import { planPull, type PullPlan } from './plan.js'
import { swarmFetch, type SwarmPullContext, type SwarmPullOptions } from './pull.js'
import { RateBudget } from './rate.js'
import { PullStats, type SwarmPullStatus } from './stats.js'
import { RolloutTracker, type RolloutView } from './rollout.js'
import { HAVE_PROTOCOL, SIZES_PROTOCOL } from './constants.js'

export class CacheCloudSwarm implements Swarm {
  private readonly libp2p: Libp2p<{ pubsub: CachePointPubSub }>
  private readonly site: string
  private readonly wan: RateBudget
  private readonly holdings: HoldingsTable
  private readonly retry: RetryPolicy
  private readonly ctx: SwarmPullContext
  private readonly subs = new Map<string, Subscription>()
  private readonly pulls = new Map<string, { stats: PullStats, promise: Promise<SwarmPullResult> }>()
  private readonly sites = new Map<string, string>()
  private readonly counters: SwarmCounters = { sentLanBytes: 0, sentWanBytes: 0, receivedLanBytes: 0, receivedWanBytes: 0, byPeer: {} }
  private readonly stopping = new AbortController()
  /** Aborted by pause; a fresh one after each pause. */
  private pausing = new AbortController()
  private started = false
  paused = false

  private readonly rolloutTracker: RolloutTracker
  private readonly gate: AnnouncementGate

  constructor (private readonly init: SwarmInit) {
    this.libp2p = init.libp2p
    this.site = init.site ?? ''
    this.retry = init.retry ?? DEFAULT_PULL_RETRY
    this.wan = new RateBudget(init.wan)
    this.holdings = new HoldingsTable(init.catalog, init.blockstore, this.site)
    this.ctx = {
      libp2p: init.libp2p,
      blockstore: init.blockstore,
      catalog: init.catalog,
      site: this.site,
      wan: this.wan,
      haveIntervalMs: init.haveIntervalMs ?? DEFAULT_HAVE_INTERVAL_MS,
      timeoutMs: init.timeoutMs ?? DEFAULT_HAVE_TIMEOUT_MS,
      log: init.logger,
      live: this.holdings.live,
      onDemand: new Map()
    }
    for (const s of init.subscriptions ?? []) this.subs.set(s.name, { name: s.name, policy: s.policy ?? 'auto' })
    this.gate = new AnnouncementGate(init.trust, init.logger)
    this.rolloutTracker = new RolloutTracker({
      libp2p: init.libp2p,
      catalog: init.catalog,
      site: this.site,
      intervalMs: init.rolloutIntervalMs ?? DEFAULT_ROLLOUT_INTERVAL_MS,
      ...(init.publisherKey === undefined ? {} : { publisher: formatPublicKey(init.publisherKey.publicKey) }),
      subscriptions: () => [...this.subs.keys()],
      pulls: () => this.status(),
      ...(init.logger === undefined ? {} : { logger: init.logger })
    })
  }

  /** Per ref, the manifest CID of its latest announcement and the node that signed it (which holds it); at most MAX_ANNOUNCERS_KEPT. */
  private readonly announcers = new Map<string, ManifestHint>()

  private rememberAnnouncer (ref: string, hint: ManifestHint): void {
    this.announcers.delete(ref)
    this.announcers.set(ref, hint)
    if (this.announcers.size > MAX_ANNOUNCERS_KEPT) this.announcers.delete(this.announcers.keys().next().value as string)
  }

  /** Refs with a background pull under way (its attempts and the waits between them): one at a time. */
  private readonly backgrounds = new Set<string>()

  private readonly onMessage = (evt: CustomEvent<PubSubMessage>): void => {
    const name = topicImage(evt.detail.topic)
    const sub = name === undefined ? undefined : this.subs.get(name)
    if (sub === undefined) return
    const a = this.gate.check(evt.detail, sub.name)
    if (a === undefined) return
    const ref = formatVersionRef(a.ref)
    const from = evt.detail.type === 'signed' ? evt.detail.from.toString() : 'unknown'
    if (evt.detail.type === 'signed') this.rememberAnnouncer(ref, { cid: a.cid, peer: evt.detail.from })
    this.init.logger?.info({ ref, cid: a.cid.toString(), publisher: a.publisher, from, policy: sub.policy }, 'announced: %s', ref)
    this.init.onEvent?.({ type: 'announced', ref, cid: a.cid.toString() })
    if (sub.policy === 'auto') this.background(a.ref)
  }

  private listen (name: string): void {
    this.libp2p.services.pubsub.topicValidators.set(announceTopic(name), this.gate.validate)
    this.libp2p.services.pubsub.subscribe(announceTopic(name))
  }

  private unlisten (name: string): void {
    this.libp2p.services.pubsub.unsubscribe(announceTopic(name))
    this.libp2p.services.pubsub.topicValidators.delete(announceTopic(name))
  }

  private readonly onConnect = (evt: CustomEvent<PeerId>): void => {
    // a node back from offline asks who has something newer instead of waiting for the next announcement
    setTimeout(() => { void this.catchUp([evt.detail]) }, 300)
  }

  async start (): Promise<void> {
    await handleHave(this.libp2p, async (cid, peer) => await this.holdings.answer(cid, peer), this.ctx.timeoutMs, this.init.logger)
    await handleSizes(this.libp2p, async cid => await this.storedSizes(cid), this.ctx.timeoutMs, this.init.logger)
    this.libp2p.services.pubsub.addEventListener('message', this.onMessage)
    this.libp2p.addEventListener('peer:connect', this.onConnect)
    for (const name of this.subs.keys()) this.listen(name)
    this.started = true
    this.rolloutTracker.start()
    await this.resumeHalfPulled()
    void this.catchUp()
    // an announcement can be missed (subscription not yet known to the publisher, link down): look again now and then
    this.catchUpTimer = setInterval(() => { void this.catchUp() }, this.init.catchUpIntervalMs ?? DEFAULT_CATCH_UP_INTERVAL_MS)
    this.catchUpTimer.unref()
  }

  private catchUpTimer: ReturnType<typeof setInterval> | undefined

  async stop (): Promise<void> {
    clearInterval(this.catchUpTimer)
    this.rolloutTracker.stop()
    this.started = false
    this.stopping.abort(new Error('swarm stopped'))
    this.libp2p.services.pubsub.removeEventListener('message', this.onMessage)
    for (const name of this.subs.keys()) this.libp2p.services.pubsub.topicValidators.delete(announceTopic(name))
    this.libp2p.removeEventListener('peer:connect', this.onConnect)
    await this.libp2p.unhandle([HAVE_PROTOCOL, SIZES_PROTOCOL])
    await Promise.allSettled([...this.pulls.values()].map(async p => await p.promise))
  }

  /** Stored size of each entry of a catalogued version's manifest (0: a hole or a block not held). */
  private async storedSizes (cid: CID): Promise<number[] | undefined> {
    const entry = (await this.init.catalog.list()).find(e => e.cid.equals(cid))
    if (entry === undefined) return undefined
    const manifest = await this.init.catalog.manifest(entry)
    return await Promise.all(manifest.blocks.map(async block => block === null ? 0 : await this.init.blockstore.storedSize(block) ?? 0))
  }

  /** Versions of subscribed images left half-pulled (a restart, a pause) continue on their own; returns their refs. */
  private async resumeHalfPulled (): Promise<string[]> {
    if (this.paused) return []
    const started: string[] = []
    for (const entry of await this.init.catalog.list()) {
      if (entry.state === 'pulling' && this.subs.get(entry.name)?.policy === 'auto') {
        this.background(entry)
        started.push(formatVersionRef(entry))
      }
    }
    return started
  }

  async pause (): Promise<string[]> {
    this.paused = true
    const running = [...this.pulls.values()].filter(p => p.stats.state === 'pulling' || p.stats.state === 'resolving')
    this.pausing.abort(new SwarmPausedError('swarm pulls paused; they continue on resume'))
    await Promise.allSettled(running.map(async p => await p.promise))
    this.pausing = new AbortController()
    if (running.length > 0) this.init.logger?.info({ stopped: running.map(p => p.stats.ref) }, 'swarm pulls paused')
    return running.map(p => p.stats.ref)
  }

  async resume (): Promise<string[]> {
    this.paused = false
    return this.started ? await this.syncNow() : []
  }

  async syncNow (): Promise<string[]> {
    const started = await this.resumeHalfPulled()
    void this.catchUp()
    return started
  }

  /**
   * Pulls a subscribed version on its own, tried again as the retry policy says while no peer offers it yet or
   * the pull fails; never again for a version offered only under an untrusted publisher
   * (an announcement anyone can send must not keep a node busy for good).
   */
  private background (ref: VersionRef, attempt = 0): void {
    const key = formatVersionRef(ref)
    if (attempt === 0) {
      // another announcement (or a replay of one), a catch-up or a resume while this ref is under way starts nothing more
      if (this.paused || this.backgrounds.has(key)) return
      this.backgrounds.add(key)
    }
    const end = (): void => { this.backgrounds.delete(key) }
    if (this.paused) { end(); return }
    this.pull(ref).then(end, (err: Error) => {
      if (this.stopping.signal.aborted || this.paused) { end(); return }
      const delay = err instanceof UntrustedPublisherError ? undefined : retryDelay(this.retry, attempt)
      if (delay === undefined) {
        end()
        this.init.logger?.warn({ err, ref: key, attempts: attempt + 1 }, 'gave up pulling %s: %s', key, err.message)
        return
      }
      this.init.logger?.warn({ err, ref: key, retryInMs: delay }, 'pull of %s failed, retrying in %d ms: %s', key, delay, err.message)
      setTimeout(() => {
        if (this.stopping.signal.aborted) end()
        else this.background(ref, attempt + 1)
      }, delay).unref()
    })
  }

  async catchUp (peers?: PeerId[]): Promise<void> {
    for (const sub of this.subs.values()) {
      if (!this.started || this.paused || sub.policy !== 'auto') continue
      if ([...this.pulls.values()].some(p => p.stats.ref.startsWith(`${sub.name}@`) && (p.stats.state === 'pulling' || p.stats.state === 'resolving'))) continue
      try {
        const ref = await newestOffered({ ...this.ctx, trust: this.init.trust, log: this.init.logger }, sub.name, peers)
        if (ref !== undefined) this.background(ref)
      } catch (err) {
        this.init.logger?.warn({ err, name: sub.name }, 'catch-up of %s failed: %s', sub.name, (err as Error).message)
      }
    }
  }

  async pull (ref: VersionRef, options: SwarmPullOptions = {}): Promise<SwarmPullResult> {
    const key = formatVersionRef(ref)
    if (this.paused) throw new SwarmPausedError(`the swarm is paused: ${key} is not pulled until resume`)
    const running = this.pulls.get(key)
    if (running !== undefined && (running.stats.state === 'pulling' || running.stats.state === 'resolving')) return await running.promise
    const stats = new PullStats(key)
    if (running !== undefined && running.stats.state !== 'complete') stats.continues(running.stats)
    const promise = this.runPull(ref, stats, options)
    this.pulls.delete(key) // re-inserted last: the map stays in the order pulls last started
    this.pulls.set(key, { stats, promise })
    this.forgetOldPulls()
    return await promise
  }

  /** Keeps status bounded: beyond MAX_FINISHED_PULLS_KEPT finished pulls (complete, failed), the oldest go. */
  private forgetOldPulls (): void {
    const finished = [...this.pulls].filter(([, p]) => p.stats.state === 'complete' || p.stats.state === 'failed')
    for (const [key] of finished.slice(0, Math.max(0, finished.length - MAX_FINISHED_PULLS_KEPT))) this.pulls.delete(key)
  }

  private async runPull (ref: VersionRef, stats: PullStats, options: SwarmPullOptions): Promise<SwarmPullResult> {
    const started = performance.now()
    const pausing = this.pausing.signal
    const signal = AbortSignal.any([this.stopping.signal, pausing, ...(options.signal === undefined ? [] : [options.signal])])
    try {
      await Promise.resolve()
      // announced: the manifest comes from its announcer, without asking every peer's catalog first
      const hint = this.announcers.get(stats.ref)
      this.announcers.delete(stats.ref)
      const { cid, manifest } = await resolveManifest({ ...this.ctx, trust: this.init.trust, log: this.init.logger }, ref, signal, hint)
      stats.cid = cid.toString()
      const local = await this.init.catalog.find(ref)
      if (local === undefined) await this.init.catalog.add(manifest, 'pulling')
      if (local?.state !== 'complete') {
        await swarmFetch(this.ctx, ref, cid, manifest, stats, { ...options, signal, requestedAt: started })
        await this.init.catalog.markComplete(ref)
      }
      stats.state = 'complete'
      const status = stats.info()
      for (const p of status.peers) {
        this.counters.byPeer[p.peer] = (this.counters.byPeer[p.peer] ?? 0) + p.bytes
      }
      this.counters.receivedLanBytes += status.lanBytes
      this.counters.receivedWanBytes += status.wanBytes
      this.init.logger?.info({ ref: status.ref, lanBytes: status.lanBytes, wanBytes: status.wanBytes, peers: status.peers }, 'swarm pulled %s', status.ref)
      this.init.onEvent?.({ type: 'pulled', ref: status.ref, cid: status.cid })
      return { ...status, manifest, durationMs: performance.now() - started }
    } catch (err) {
      if (pausing.aborted) {
        // whatever the abort surfaced as (a reset stream, libp2p's AbortError), a pause is a pause
        stats.state = 'paused'
        const reason = pausing.reason as Error
        throw reason
      }
      stats.state = 'failed'
      stats.error = (err as Error).message
      throw err
    }
  }

  async resolve (ref: VersionRef, options: { signal?: AbortSignal } = {}): Promise<{ cid: CID, manifest: ImageManifest }> {
    const signal = options.signal === undefined ? this.stopping.signal : AbortSignal.any([options.signal, this.stopping.signal])
    const resolved = await resolveManifest({ ...this.ctx, trust: this.init.trust, log: this.init.logger }, ref, signal)
    if (await this.init.catalog.find(ref) === undefined) await this.init.catalog.add(resolved.manifest, 'pulling')
    return resolved
  }

  blockStored (manifest: CID, block: CID): void {
    this.ctx.onDemand.get(manifest.toString())?.stored(block)
  }

  holdBack (manifest: CID): () => void {
    return this.ctx.onDemand.get(manifest.toString())?.hold() ?? (() => {})
  }

  async plan (ref: VersionRef, options: { signal?: AbortSignal } = {}): Promise<PullPlan> {
    return await planPull({ ...this.ctx, trust: this.init.trust }, ref, options.signal)
  }

  async publish (ref: VersionRef): Promise<{ topic: string, recipients: number }> {
    const entry = await this.init.catalog.get(ref)
    const key = this.init.publisherKey
    if (key === undefined) throw new NoPublisherKeyError(`cannot announce ${formatVersionRef(ref)}: this node has no publisher key to sign with`)
    const topic = announceTopic(ref.name)
    const result = await this.libp2p.services.pubsub.publish(topic, encodeSignedAnnouncement({ ref, cid: entry.cid }, key))
    this.init.logger?.info({ ref: formatVersionRef(ref), topic, recipients: result.recipients.length }, 'published %s', formatVersionRef(ref))
    this.rolloutTracker.collect(ref.name) // the publisher follows where its version gets to
    return { topic, recipients: result.recipients.length }
  }

  subscribe (name: string, policy: Subscription['policy'] = 'auto'): void {
    this.subs.set(name, { name, policy })
    if (this.started) {
      this.listen(name)
      void this.catchUp()
    }
  }

  unsubscribe (name: string): void {
    this.subs.delete(name)
    if (this.started) this.unlisten(name)
  }

  subscriptions (): Subscription[] { return [...this.subs.values()] }

  async rollout (ref: VersionRef): Promise<RolloutView> { return await this.rolloutTracker.view(ref) }

  async rollouts (): Promise<RolloutView[]> { return await this.rolloutTracker.views() }

  status (): SwarmPullStatus[] { return [...this.pulls.values()].map(p => p.stats.info()) }

  totals (): SwarmCounters { return structuredClone(this.counters) }

  /** True when `peer` is of this node's site (its LAN). */
  private async isLan (peer: string): Promise<boolean> {
    let site = this.sites.get(peer)
    if (site === undefined) {
      site = await peerSite(this.libp2p, peer) ?? ''
      if (site !== '') this.sites.set(peer, site)
    }
    return this.site !== '' && site === this.site
  }

  readonly receiveBudget = async (peer: string, bytes: number): Promise<void> => {
    if (!await this.isLan(peer)) await this.wan.take(bytes, this.stopping.signal)
  }

  readonly sendBudget = async (peer: string, bytes: number): Promise<void> => {
    const lan = await this.isLan(peer)
    if (lan) this.counters.sentLanBytes += bytes
    else {
      this.counters.sentWanBytes += bytes
      await this.wan.take(bytes, this.stopping.signal)
    }
  }
}
