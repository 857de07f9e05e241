/**
 * Limits on inbound connections sized for a seed. libp2p's defaults (5 new
 * connections per second per remote host, 10 in their handshake at once) suit
 * a browser peer, not a data-center seed that a whole branch reaches through
 * one NAT address: when its subscribers start pulling together, the sixth
 * connection in a second was reset and nothing was logged. Here the per-host
 * rate is ours (a token bucket per remote address, in the connection gater,
 * refusals logged at warn, at most once per host per LOG_EVERY_MS with the
 * count refused since), and libp2p's own limits are set from the same
 * configuration.
 */
import type { ConnectionGater, MultiaddrConnection } from '@libp2p/interface'
import type { Logger } from 'pino'

export interface InboundLimits {
  /** New connections one remote host (IP address) may open per second, with a burst of as many. */
  perHostPerSecond: number
  /** Inbound connections in their handshake (encryption, muxer) at once. */
  maxPending: number
  /** Open connections at most (libp2p prunes beyond it). */
  maxConnections: number
}

/** A seed serving a branch of a few hundred nodes behind one address. */
export const DEFAULT_INBOUND_LIMITS: InboundLimits = { perHostPerSecond: 64, maxPending: 128, maxConnections: 1024 }

const LOG_EVERY_MS = 10_000
/** Hosts remembered at most (an idle bucket is full again and can be forgotten). */
const MAX_TRACKED_HOSTS = 65_536

interface Bucket { tokens: number, at: number, refused: number, loggedAt: number }

/** The gater part that enforces `perHostPerSecond`; `now` is injectable for tests. */
export function createInboundRateGater (limits: InboundLimits, logger?: Logger, now: () => number = Date.now): Pick<ConnectionGater, 'denyInboundConnection'> {
  const buckets = new Map<string, Bucket>()
  const rate = limits.perHostPerSecond
  return {
    denyInboundConnection: (conn: MultiaddrConnection): boolean => {
      const host = hostOf(conn)
      const t = now()
      let bucket = buckets.get(host)
      if (bucket === undefined) {
        if (buckets.size >= MAX_TRACKED_HOSTS) forgetFullBuckets(buckets, rate, t)
        bucket = { tokens: rate, at: t, refused: 0, loggedAt: 0 }
        buckets.set(host, bucket)
      }
      bucket.tokens = Math.min(rate, bucket.tokens + (t - bucket.at) * rate / 1000)
      bucket.at = t
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1
        return false
      }
      bucket.refused++
      if (t - bucket.loggedAt >= LOG_EVERY_MS) {
        logger?.warn({ remote: conn.remoteAddr.toString(), host, refused: bucket.refused, limit: rate },
          'refused %d inbound connection%s from %s: more than %d per second from one host (inbound.perHostPerSecond)',
          bucket.refused, bucket.refused === 1 ? '' : 's', host, rate)
        bucket.loggedAt = t
        bucket.refused = 0
      }
      return true
    }
  }
}

/** libp2p's connection manager options for these limits (its own per-host limiter left to ours). */
export function connectionManagerOptions (limits: InboundLimits): {
  inboundConnectionThreshold: number,
  maxIncomingPendingConnections: number,
  maxConnections: number
} {
  return { inboundConnectionThreshold: Number.MAX_SAFE_INTEGER, maxIncomingPendingConnections: limits.maxPending, maxConnections: limits.maxConnections }
}

function hostOf (conn: MultiaddrConnection): string {
  const parts = conn.remoteAddr.toString().split('/')
  return parts[2] ?? conn.remoteAddr.toString()
}

function forgetFullBuckets (buckets: Map<string, Bucket>, rate: number, t: number): void {
  for (const [host, b] of buckets) {
    if (b.tokens + (t - b.at) * rate / 1000 >= rate) buckets.delete(host)
  }
  if (buckets.size >= MAX_TRACKED_HOSTS) buckets.clear()
}
