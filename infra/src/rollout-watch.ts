import type { StatusInfo } from '@cachecloud/control'
import type { RolloutCounts, RolloutNode, RolloutView } from '@cachecloud/swarm'
import type { SimNode } from './cluster.js'

/** What a node's own status says of a version, in the rollout view's words (offline is only ever the view's verdict). */
export type OwnState = Exclude<RolloutNode['state'], 'offline'>

export interface OwnSample {
  /** Asked at t0, answered at t1 (ms): the node's state was read in between. */
  t0: number
  t1: number
  state: OwnState
  percent: number | null
}

/** Asked at t0, answered at t1 (ms). */
export interface ViewSample { t0: number, t1: number, view: RolloutView }

/** A node's own state of `ref` from its status (what `cachepoint status --json` prints), as its rollout report states it. */
export function ownState (status: Pick<StatusInfo, 'versions' | 'swarm'>, ref: string): { state: OwnState, percent: number | null } {
  const entry = status.versions.find(v => `${v.name}@${v.version}` === ref)
  if (entry === undefined) return { state: 'not-started', percent: null }
  if (entry.state === 'complete') return { state: 'complete', percent: null }
  const pull = status.swarm.pulls.find(p => p.ref === ref)
  const total = pull?.bytesTotal ?? entry.size
  const done = Math.min(pull?.bytesDone ?? 0, total)
  return { state: 'pulling', percent: total > 0 ? Math.floor(100 * done / total) : 100 }
}

export function noCounts (): RolloutCounts { return { complete: 0, pulling: 0, notStarted: 0, offline: 0 } }

const KEY: Record<RolloutNode['state'], keyof RolloutCounts> = { complete: 'complete', pulling: 'pulling', 'not-started': 'notStarted', offline: 'offline' }

/** Counts per site (every site in `sites` present, zeros included). */
export function countBySite (nodes: Array<{ site: string, state: RolloutNode['state'] }>, sites: string[]): Record<string, RolloutCounts> {
  const out: Record<string, RolloutCounts> = Object.fromEntries(sites.map(s => [s, noCounts()]))
  for (const n of nodes) (out[n.site] ??= noCounts())[KEY[n.state]]++
  return out
}

/** The view's own per-site counts, in the same shape (sites it does not list count zero). */
export function viewCounts (view: RolloutView, sites: string[]): Record<string, RolloutCounts> {
  const out: Record<string, RolloutCounts> = Object.fromEntries(sites.map(s => [s, noCounts()]))
  for (const s of view.sites) out[s.site] = { complete: s.complete, pulling: s.pulling, notStarted: s.notStarted, offline: s.offline }
  return out
}

const RANK: Record<OwnState, number> = { 'not-started': 0, pulling: 1, complete: 2 }

/**
 * Checks what a view said of one node that stayed reachable against the node's own samples. The view
 * asked for at t reflects the node's last report, sent at most `windowMs` before t (one interval plus
 * delivery), so it must show a state the node was in during [t - windowMs, t]. States only move
 * forward (not started, pulling, complete), so: no earlier than the state of the last own sample
 * answered by t - windowMs, no later than that of the first sample asked after t.
 *
 * Offline (or missing) is the view's verdict after `offlineAfterMs` without a report: wrong if the
 * node answered its own status within `promptMs` every time it was asked in that span. A node that
 * took longer was starved of CPU (a loaded machine): its silence is `excused`, not a problem.
 */
export function lagProblems (
  own: OwnSample[], shown: Array<{ t0: number, t1: number, state: RolloutNode['state'] | undefined }>, windowMs: number, offlineAfterMs: number, promptMs: number
): { problems: Array<{ t: number, problem: string }>, excused: number } {
  const problems: Array<{ t: number, problem: string }> = []
  let excused = 0
  for (const { t0, t1, state } of shown) {
    const t = t0
    const before = own.filter(s => s.t1 <= t0 - windowMs).at(-1)
    const after = own.find(s => s.t0 >= t1)
    if (state === undefined || state === 'offline') {
      const span = own.filter(s => s.t0 >= t0 - offlineAfterMs && s.t1 <= t1)
      if (before === undefined || span.length < 2) continue
      const slowest = Math.max(...span.map(s => s.t1 - s.t0))
      if (slowest > promptMs) excused++
      else problems.push({ t, problem: `shown ${state ?? 'missing'} though it answered its own status within ${slowest} ms all along` })
      continue
    }
    if (before !== undefined && RANK[state] < RANK[before.state]) problems.push({ t, problem: `shown ${state}, but the node was ${before.state} already ${t - before.t1} ms before (more than ${windowMs} ms behind)` })
    if (after !== undefined && RANK[state] > RANK[after.state]) problems.push({ t, problem: `shown ${state}, ahead of the node (${after.state} at ${after.t0 - t} ms)` })
  }
  return { problems, excused }
}

/**
 * Samples, in rounds, every watched node's own status (through its relay, the control API) and the
 * publisher's rollout view of one version, until stopped. A round asks everything at once, then waits
 * `pauseMs`.
 */
export class RolloutRecorder {
  readonly own = new Map<string, OwnSample[]>()
  readonly views: ViewSample[] = []
  /** Nodes not sampled now (stopped, or their link cut: their status is read on purpose elsewhere). */
  readonly unwatched = new Set<string>()
  private running = false
  private loop: Promise<void> | undefined
  private readonly waiters: Array<() => void> = []

  constructor (private readonly publisher: SimNode, private readonly nodes: SimNode[], private readonly ref: string, private readonly pauseMs = 250) {}

  start (): void {
    this.running = true
    this.loop = (async () => {
      while (this.running) {
        await this.round()
        for (const w of this.waiters.splice(0)) w()
        await new Promise(resolve => setTimeout(resolve, this.pauseMs))
      }
    })()
  }

  async stop (): Promise<void> {
    this.running = false
    await this.loop
  }

  /** Resolves after the next complete round. */
  async nextRound (): Promise<void> { await new Promise<void>(resolve => this.waiters.push(resolve)) }

  latest (name: string): OwnSample | undefined { return this.own.get(name)?.at(-1) }

  lastView (): ViewSample | undefined { return this.views.at(-1) }

  private async round (): Promise<void> {
    const watched = this.nodes.filter(n => n.running && !this.unwatched.has(n.host.name))
    await Promise.all([
      ...watched.map(async n => {
        const t0 = Date.now()
        try {
          const status = await n.call<StatusInfo>({ cmd: 'status' })
          const sample = { t0, t1: Date.now(), ...ownState(status, this.ref) }
          if (!this.unwatched.has(n.host.name)) this.own.set(n.host.name, [...(this.own.get(n.host.name) ?? []), sample])
        } catch {} // stopped meanwhile
      }),
      (async () => {
        const t0 = Date.now()
        try {
          const view = await this.publisher.call<RolloutView>({ cmd: 'rollout', ref: this.ref })
          this.views.push({ t0, t1: Date.now(), view })
        } catch {}
      })()
    ])
  }
}
