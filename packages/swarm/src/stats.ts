import { createRateWindow, type ProgressEvent, type RateWindow } from '@cachecloud/core'

/** Per peer: site, whether it is in this node's site, block bytes received from it, and the bytes that crossed the link for them (compressed). */
export interface PeerBytes { peer: string, site: string, lan: boolean, bytes: number, wireBytes: number }

/** A swarm pull as status shows it. */
export interface SwarmPullStatus {
  ref: string
  cid: string
  state: 'resolving' | 'pulling' | 'paused' | 'complete' | 'failed'
  blocksDone: number
  blocksTotal: number
  bytesDone: number
  bytesTotal: number
  /** Block (raw) bytes stored from peers of this site, and of other sites. */
  lanBytes: number
  wanBytes: number
  /** Bytes that crossed the link for them: compressed blocks and framing (what the WAN budget charges). */
  lanWireBytes: number
  wanWireBytes: number
  peers: PeerBytes[]
  /** Block bytes per second over the last few seconds. */
  rate: number
  /** Seconds left at the current rate, or null when unknown. */
  etaSeconds: number | null
  startedAt: string
  error?: string
}

/** Counters of one swarm pull: blocks and bytes, by peer and LAN vs WAN, rate and ETA. */
export class PullStats {
  private blocksTotal = 0
  private bytesTotal = 0
  private blocksDone = 0
  private bytesDone = 0
  private lanBytes = 0
  private wanBytes = 0
  private lanWireBytes = 0
  private wanWireBytes = 0
  private readonly peers = new Map<string, PeerBytes>()
  private readonly window: RateWindow
  state: SwarmPullStatus['state'] = 'resolving'
  cid = ''
  error: string | undefined
  private readonly startedAt = new Date().toISOString()

  /** `now`: the rate window's clock in ms (tests move one by hand). */
  constructor (readonly ref: string, now?: () => number) {
    this.window = createRateWindow(now === undefined ? {} : { now })
  }

  /**
   * A pull of the same version resumed in this run (after a pause or a failure) continues its
   * predecessor's counters: done and total both include what the earlier pull stored.
   */
  continues (earlier: PullStats): void {
    this.blocksDone = earlier.blocksDone
    this.bytesDone = earlier.bytesDone
    this.lanBytes = earlier.lanBytes
    this.wanBytes = earlier.wanBytes
    this.lanWireBytes = earlier.lanWireBytes
    this.wanWireBytes = earlier.wanWireBytes
    for (const [id, p] of earlier.peers) this.peers.set(id, { ...p })
  }

  /** The blocks still missing when the block phase starts. */
  begin (blocks: number, bytes: number): void {
    this.blocksTotal = this.blocksDone + blocks
    this.bytesTotal = this.bytesDone + bytes
    this.state = 'pulling'
    this.window.record(this.bytesDone, this.bytesTotal)
  }

  peerSite (peer: string, site: string, lan: boolean): void {
    const p = this.peers.get(peer)
    if (p === undefined) this.peers.set(peer, { peer, site, lan, bytes: 0, wireBytes: 0 })
    else { p.site = site; p.lan = lan }
  }

  stored (peer: string, lan: boolean, bytes: number): void {
    this.blocksDone++
    this.bytesDone += bytes
    if (lan) this.lanBytes += bytes
    else this.wanBytes += bytes
    const p = this.peers.get(peer) ?? { peer, site: '', lan, bytes: 0, wireBytes: 0 }
    p.bytes += bytes
    this.peers.set(peer, p)
    this.window.record(this.bytesDone, this.bytesTotal)
  }

  /** Bytes read from a peer's block stream (compressed blocks and framing). */
  wire (peer: string, lan: boolean, bytes: number): void {
    if (lan) this.lanWireBytes += bytes
    else this.wanWireBytes += bytes
    const p = this.peers.get(peer) ?? { peer, site: '', lan, bytes: 0, wireBytes: 0 }
    p.wireBytes += bytes
    this.peers.set(peer, p)
  }

  /** A block of this pull was stored outside it (an on-demand read fetched it first). */
  storedElsewhere (bytes: number): void {
    this.blocksDone++
    this.bytesDone += bytes
    this.window.record(this.bytesDone, this.bytesTotal)
  }

  progress (peer: string): ProgressEvent<'swarm:block'> {
    return {
      type: 'swarm:block',
      done: this.bytesDone,
      total: this.bytesTotal,
      unit: 'bytes',
      detail: {
        blocksDone: this.blocksDone,
        blocksTotal: this.blocksTotal,
        lanBytes: this.lanBytes,
        wanBytes: this.wanBytes,
        lanWireBytes: this.lanWireBytes,
        wanWireBytes: this.wanWireBytes,
        peer
      }
    }
  }

  info (): SwarmPullStatus {
    // a complete pull has its average rate and ETA 0; a stopped one neither
    if (this.state === 'complete') this.window.finish()
    const stopped = this.state === 'paused' || this.state === 'failed'
    const reading = stopped ? { rate: 0, etaSeconds: null } : this.window.read()
    return {
      ref: this.ref,
      cid: this.cid,
      state: this.state,
      blocksDone: this.blocksDone,
      blocksTotal: this.blocksTotal,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      lanBytes: this.lanBytes,
      wanBytes: this.wanBytes,
      lanWireBytes: this.lanWireBytes,
      wanWireBytes: this.wanWireBytes,
      peers: [...this.peers.values()].filter(p => p.bytes > 0),
      rate: reading.rate ?? 0,
      etaSeconds: reading.etaSeconds === null ? null : Math.ceil(reading.etaSeconds),
      startedAt: this.startedAt,
      ...(this.error !== undefined ? { error: this.error } : {})
    }
  }
}
