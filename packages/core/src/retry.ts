/**
 * One rule for trying a failed background pull again, whichever engine runs
 * it (a direct pull resumed at start or by a sync, a swarm pull of a
 * subscription or an announcement, the pull behind an NBD export): doubling
 * delays from `baseMs` up to `maxMs`, at most `maxAttempts` tries in all.
 */
export interface RetryPolicy {
  /** Wait after the first failure; doubled after each further one. */
  baseMs: number
  /** Longest wait between two tries. */
  maxMs: number
  /** Tries in all, the first included; Infinity: until the pull's owner stops it. */
  maxAttempts: number
}

/** A subscribed or resumed version whose pull failed (no peer offers it yet, peers gone) is tried again after 1 s, 2 s, 4 s ... at most 30 s apart, 10 times in all; the next sync, catch-up or announcement starts it again. */
export const DEFAULT_PULL_RETRY: Readonly<RetryPolicy> = Object.freeze({ baseMs: 1_000, maxMs: 30_000, maxAttempts: 10 })

/** The wait before try `attempt + 1` after try `attempt` (0 = the first) failed, or undefined when the policy gives up. */
export function retryDelay (policy: RetryPolicy, attempt: number): number | undefined {
  if (attempt + 1 >= policy.maxAttempts) return undefined
  return Math.min(policy.maxMs, policy.baseMs * 2 ** attempt)
}

/** The policy in words, for a status line: "tried again after 1 s, doubling to at most 30 s, 10 times in all". */
export function describeRetry (policy: RetryPolicy): string {
  const s = (ms: number): string => ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`
  const times = Number.isFinite(policy.maxAttempts) ? `, ${policy.maxAttempts} tries in all` : ', until it stops'
  return `tried again after ${s(policy.baseMs)}, doubling to at most ${s(policy.maxMs)}${times}`
}
