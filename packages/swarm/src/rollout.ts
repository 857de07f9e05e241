import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import { formatVersionRef, type VersionRef } from '@cachecloud/core'
import type { Catalog } from '@cachecloud/image'
import type { CachePointPubSub, PubSubMessage } from '@cachecloud/network'
import { MAX_REPORT_VERSIONS, MAX_ROLLOUT_NODES, ROLLOUT_OFFLINE_AFTER_INTERVALS } from './constants.js'
import { decodeRolloutReport, encodeRolloutReport, rolloutTopic, rolloutTopicImage, type RolloutReport } from './rollout-wire.js'
import type { SwarmPullStatus } from './stats.js'

/** Where one node stands with one version, as its last report said. */
export interface RolloutNode {
  peer: string
  site: string
  state: 'complete' | 'pulling' | 'not-started' | 'offline'
  /** Percent of the version's bytes held, for `pulling` (and what an offline node last had); else null. */
  percent: number | null
  /** When its last report arrived (ISO 8601). */
  lastSeen: string
}

export interface RolloutCounts { complete: number, pulling: number, notStarted: number, offline: number }

/** A version's rollout across the nodes that report to this one, per site. */
export interface RolloutView {
  ref: string
  /** How often nodes report; counts are at most this old (plus relay time). */
  reportIntervalSeconds: number
  totals: RolloutCounts
  sites: Array<{ site: string, nodes: RolloutNode[] } & RolloutCounts>
}

export interface RolloutInit {
  libp2p: Libp2p<{ pubsub: CachePointPubSub }>
  catalog: Catalog
  site: string
  intervalMs: number
  /** Formatted key of this node's publisher: it collects the reports of the images it published. */
  publisher?: string
  subscriptions: () => string[]
  pulls: () => SwarmPullStatus[]
  logger?: Logger
}

interface Heard { report: RolloutReport, at: number }

/** Delay of the report sent to a new collector (lets its subscription settle). */
const SOON_MS = 200

/**
 * Rollout reports: every node sends, once per interval, one small report per
 * image it holds or subscribes to, on that image's rollout topic, without
 * subscribing to it: gossipsub delivers it to the connected peers that
 * subscribe, the collectors (the image's publisher, a node asked for its
 * rollout). So each node sends O(images) messages per interval whatever the
 * number of peers, and only collectors receive them. The sender is
 * gossipsub's signed `from`; the site is the node's own label.
 */
export class RolloutTracker {
  private readonly heard = new Map<string, Map<string, Heard>>()
  private readonly collecting = new Set<string>()
  private timer: ReturnType<typeof setInterval> | undefined
  private first: ReturnType<typeof setTimeout> | undefined

  constructor (private readonly init: RolloutInit) {}

  start (): void {
    this.init.libp2p.services.pubsub.addEventListener('message', this.onMessage)
    this.init.libp2p.services.pubsub.addEventListener('subscription-change', this.onSubscription)
    // a random start spreads the reports of nodes started together over the interval
    this.first = setTimeout(() => { void this.tick() }, Math.random() * Math.min(this.init.intervalMs, 5_000))
    this.timer = setInterval(() => { void this.tick() }, this.init.intervalMs)
    this.first.unref()
    this.timer.unref()
  }

  stop (): void {
    clearTimeout(this.first)
    clearInterval(this.timer)
    this.init.libp2p.services.pubsub.removeEventListener('message', this.onMessage)
    this.init.libp2p.services.pubsub.removeEventListener('subscription-change', this.onSubscription)
    for (const timer of this.soon.values()) clearTimeout(timer)
    for (const name of this.collecting) this.init.libp2p.services.pubsub.unsubscribe(rolloutTopic(name))
  }

  /** Starts collecting the reports of `name` (kept for this run). */
  collect (name: string): void {
    if (this.collecting.has(name)) return
    this.collecting.add(name)
    this.init.libp2p.services.pubsub.subscribe(rolloutTopic(name))
  }

  /** Images whose report goes out shortly (a collector appeared), at most one pending each. */
  private readonly soon = new Map<string, ReturnType<typeof setTimeout>>()

  /** A peer began collecting an image's reports: it hears from this node now, not an interval later (once per collector, so still O(1)). */
  private readonly onSubscription = (evt: CustomEvent<{ subscriptions: Array<{ topic: string, subscribe: boolean }> }>): void => {
    for (const { topic, subscribe } of evt.detail.subscriptions) {
      const name = rolloutTopicImage(topic)
      if (!subscribe || name === undefined || this.soon.has(name)) continue
      const timer = setTimeout(() => { this.soon.delete(name); void this.send(name) }, SOON_MS)
      timer.unref()
      this.soon.set(name, timer)
    }
  }

  private async send (name: string): Promise<void> {
    try {
      const entries = await this.init.catalog.list()
      if (!entries.some(e => e.name === name) && !this.init.subscriptions().includes(name)) return
      await this.init.libp2p.services.pubsub.publish(rolloutTopic(name), encodeRolloutReport(await this.report(name)))
    } catch (err) {
      this.init.logger?.debug({ err, name }, 'rollout report of %s not sent: %s', name, (err as Error).message)
    }
  }

  private readonly onMessage = (evt: CustomEvent<PubSubMessage>): void => {
    const name = rolloutTopicImage(evt.detail.topic)
    if (name === undefined || !this.collecting.has(name) || evt.detail.type !== 'signed') return
    try {
      const report = decodeRolloutReport(evt.detail.data, name)
      this.remember(evt.detail.from.toString(), report)
    } catch (err) {
      this.init.logger?.debug({ err, from: evt.detail.from.toString() }, 'ignored rollout report: %s', (err as Error).message)
    }
  }

  private remember (peer: string, report: RolloutReport): void {
    let nodes = this.heard.get(report.image)
    if (nodes === undefined) this.heard.set(report.image, nodes = new Map())
    nodes.delete(peer)
    nodes.set(peer, { report, at: Date.now() })
    // bounded: the node heard from longest ago goes first (Map order is insertion order)
    if (nodes.size > MAX_ROLLOUT_NODES) nodes.delete(nodes.keys().next().value as string)
  }

  /** This node's report of `name`: its newest versions, with the bytes of those still pulling. */
  private async report (name: string): Promise<RolloutReport> {
    const entries = (await this.init.catalog.list()).filter(e => e.name === name).sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(
      0,
      MAX_REPORT_VERSIONS
    )
    const pulls = this.init.pulls()
    return {
      image: name,
      site: this.init.site,
      versions: entries.map(e => {
        const pull = pulls.find(p => p.ref === formatVersionRef(e))
        const state = e.state === 'complete' ? 'complete' as const : 'pulling' as const
        const total = pull?.bytesTotal ?? e.size
        return { version: e.version, cid: e.cid.toString(), state, done: state === 'complete' ? total : Math.min(pull?.bytesDone ?? 0, total), total }
      })
    }
  }

  private async tick (): Promise<void> {
    try {
      const entries = await this.init.catalog.list()
      if (this.init.publisher !== undefined) for (const e of entries) if (e.publisher === this.init.publisher) this.collect(e.name)
      const names = new Set([...this.init.subscriptions(), ...entries.map(e => e.name)])
      const self = this.init.libp2p.peerId.toString()
      for (const name of names) {
        const report = await this.report(name)
        if (this.collecting.has(name)) this.remember(self, report)
        await this.init.libp2p.services.pubsub.publish(rolloutTopic(name), encodeRolloutReport(report)).catch((err: Error) => {
          this.init.logger?.debug({ err, name }, 'rollout report of %s not sent: %s', name, err.message)
        })
      }
    } catch (err) {
      this.init.logger?.warn({ err }, 'rollout report failed: %s', (err as Error).message)
    }
  }

  /** The rollout of the newest version of each image this node collects. */
  async views (): Promise<RolloutView[]> {
    const entries = await this.init.catalog.list()
    const views: RolloutView[] = []
    for (const name of [...this.collecting].sort()) {
      const newest = entries.filter(e => e.name === name).sort((a, b) => b.createdAt.localeCompare(a.createdAt))[0]
      if (newest !== undefined) views.push(await this.view(newest))
    }
    return views
  }

  /** The rollout of `ref` among the nodes heard from (collection starts now if it had not). */
  async view (ref: VersionRef): Promise<RolloutView> {
    this.collect(ref.name)
    this.remember(this.init.libp2p.peerId.toString(), await this.report(ref.name)) // this node as it is now
    const now = Date.now()
    const offlineAfter = ROLLOUT_OFFLINE_AFTER_INTERVALS * this.init.intervalMs
    const bySite = new Map<string, RolloutNode[]>()
    for (const [peer, { report, at }] of this.heard.get(ref.name) ?? []) {
      const held = report.versions.find(v => v.version === ref.version)
      const percent = held === undefined ? null : held.total > 0 ? Math.floor(100 * held.done / held.total) : 100
      const state: RolloutNode['state'] = now - at > offlineAfter ? 'offline' : held === undefined ? 'not-started' : held.state
      const node: RolloutNode = { peer, site: report.site, state, percent: state === 'complete' || state === 'not-started' ? null : percent, lastSeen: new Date(at).toISOString() }
      bySite.set(report.site, [...(bySite.get(report.site) ?? []), node])
    }
    const counts = (nodes: RolloutNode[]): RolloutCounts => ({
      complete: nodes.filter(n => n.state === 'complete').length,
      pulling: nodes.filter(n => n.state === 'pulling').length,
      notStarted: nodes.filter(n => n.state === 'not-started').length,
      offline: nodes.filter(n => n.state === 'offline').length
    })
    const sites = [...bySite].sort(([a], [b]) => a.localeCompare(b)).map(([site, nodes]) => ({ site, ...counts(nodes), nodes }))
    return { ref: formatVersionRef(ref), reportIntervalSeconds: this.init.intervalMs / 1000, totals: counts(sites.flatMap(s => s.nodes)), sites }
  }
}
