import type { Logger } from 'pino'
import { peerIdFromString } from '@libp2p/peer-id'
import { parseMultiaddr, peerIdOfMultiaddr, type CachePointLibp2p } from '@cachecloud/network'
import { PEER_PROBE_INTERVAL_MS, PEER_PROBE_TIMEOUT_MS } from './constants.js'

export interface PeerMonitorInit {
  libp2p: CachePointLibp2p
  /** Configured peers: multiaddrs ending in /p2p/<peer id>. */
  peers: string[]
  logger: Logger
  onChange: () => void
  probeIntervalMs?: number
}

/**
 * Tells whether the node is online: which configured peers are reachable.
 * A connected peer is reachable; a lost connection makes it unreachable at
 * once (libp2p's peer:disconnect), and a peer that is not connected is dialled
 * every PEER_PROBE_INTERVAL_MS (and on `probe()`, e.g. for sync now).
 */
export class PeerMonitor {
  private readonly reachable = new Set<string>()
  private readonly targets: Array<{ peerId: string, addr: string }>
  private timer: NodeJS.Timeout | undefined
  private probing: Promise<void> | undefined

  constructor (private readonly init: PeerMonitorInit) {
    this.targets = init.peers.map(addr => ({ addr, peerId: peerIdOfMultiaddr(addr) ?? addr }))
  }

  get configured (): number { return this.targets.length }
  get reachableCount (): number { return this.reachable.size }
  /** Online when a configured peer is reachable; a node with none configured has nothing to reach. */
  get online (): boolean { return this.targets.length === 0 || this.reachable.size > 0 }
  isReachable (peerId: string): boolean { return this.reachable.has(peerId) }

  start (): void {
    this.init.libp2p.addEventListener('peer:connect', this.onConnect)
    this.init.libp2p.addEventListener('peer:disconnect', this.onDisconnect)
    this.timer = setInterval(() => { void this.probe() }, this.init.probeIntervalMs ?? PEER_PROBE_INTERVAL_MS)
    this.timer.unref()
    void this.probe()
  }

  stop (): void {
    clearInterval(this.timer)
    this.init.libp2p.removeEventListener('peer:connect', this.onConnect)
    this.init.libp2p.removeEventListener('peer:disconnect', this.onDisconnect)
  }

  /** Dials the configured peers that are not connected; resolves when every dial has ended. */
  async probe (): Promise<void> {
    this.probing ??= this.probeAll().finally(() => { this.probing = undefined })
    return this.probing
  }

  private async probeAll (): Promise<void> {
    const { libp2p } = this.init
    await Promise.all(this.targets.map(async ({ peerId, addr }) => {
      let connected = false
      try {
        connected = libp2p.getConnections(peerIdFromString(peerId)).length > 0
        if (!connected) {
          await libp2p.dial(parseMultiaddr(addr), { signal: AbortSignal.timeout(PEER_PROBE_TIMEOUT_MS) })
          connected = true
        }
      } catch (err) {
        this.init.logger.debug({ peer: addr, err }, 'configured peer unreachable')
      }
      this.set(peerId, connected)
    }))
  }

  private set (peerId: string, reachable: boolean): void {
    if (!this.targets.some(t => t.peerId === peerId)) return
    if (this.reachable.has(peerId) === reachable) return
    if (reachable) this.reachable.add(peerId)
    else this.reachable.delete(peerId)
    this.init.logger.info({ peer: peerId, reachable, online: this.online }, reachable ? 'configured peer reachable' : 'configured peer unreachable')
    this.init.onChange()
  }

  private readonly onConnect = (event: CustomEvent<{ toString: () => string }>): void => { this.set(event.detail.toString(), true) }
  private readonly onDisconnect = (event: CustomEvent<{ toString: () => string }>): void => { this.set(event.detail.toString(), false) }
}
