/** Swarm distribution (docs/formats/control-api.md, "Swarm"): publish, subscriptions, plan, status, rollout. */
import type { PullPlan, RolloutView, SwarmPullStatus } from '@cachecloud/swarm'

/** A swarm pull (multi-source, site-aware) as status shows it: blocks, bytes by peer and site, LAN vs WAN, rate, ETA. */
export type SwarmPullInfo = SwarmPullStatus

/** What pulling a version would cost, before anything moves: missing blocks, from this site (LAN) vs over the WAN. */
export type PlanInfo = PullPlan

export interface SubscriptionInfo { name: string, policy: 'auto' | 'manual' }

/** The swarm as status shows it: this node's site label ('' when none), its subscriptions, the swarm pulls of this run. */
export interface SwarmStatusInfo {
  site: string
  subscriptions: SubscriptionInfo[]
  pulls: SwarmPullInfo[]
}

/** A version's rollout: per site, nodes complete, pulling (percent), not started, offline (last seen); docs/formats/control-api.md. */
export type RolloutInfo = RolloutView

/** The daemon's `swarm` subsystem. */
export interface SwarmApi {
  /** Announces a version held complete here to the image's subscribers. */
  publish(ref: string): Promise<{ ref: string, topic: string, recipients: number }>
  /** Subscribes to an image's announcements (kept in the config); `auto` pulls every new version. */
  subscribe(name: string, policy: SubscriptionInfo['policy']): Promise<SubscriptionInfo[]>
  unsubscribe(name: string): Promise<SubscriptionInfo[]>
  /** What pulling a version would cost, before anything moves. */
  plan(ref: string): Promise<PlanInfo>
  /** Swarm pulls of this run, the subscriptions and the node's site. */
  status(): Promise<SwarmStatusInfo>
  /**
   * Where versions have got to, per site, from the nodes' rollout reports: `ref`'s (its reports
   * are collected from then on), or without it the newest version of each image this node collects
   * (those it published).
   */
  rollout(ref?: string): Promise<RolloutInfo[]>
}
