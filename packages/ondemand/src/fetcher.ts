import type { Libp2p } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import { DEFAULT_BATCH_BYTES, DEFAULT_MAX_IN_FLIGHT_BYTES, DEFAULT_PUT_CONCURRENCY, runBlockSession, type BlockWant } from '@cachecloud/transfer'
import { MAX_SOURCES, SESSION_SILENCE_MS } from './constants.js'
import { BlockUnavailableError } from './errors.js'
import type { Holders } from './holders.js'
import { OnDemandScheduler } from './scheduler.js'

export interface FetcherInit {
  libp2p: Libp2p
  blockstore: Blockstore
  holders: Holders
  timeoutMs: number
  /** What the read was for, in error messages. */
  label: string
  log?: Logger
  /** A block arrived from `peer`, verified and stored. */
  onStored: (peer: string, want: BlockWant) => void
  onWire: (bytes: number) => void
  /** Waits until `bytes` more may be read from `peer` (the WAN budget, for peers of other sites). */
  receiveBudget?: (peer: string, bytes: number) => Promise<void>
}

export interface IndexedWant extends BlockWant { index: number }

/**
 * Fetches `wants` now, from peers whose have answers hold them (at most MAX_SOURCES streams at
 * once; a peer that fails or refuses hands its blocks to the next), each verified against its
 * CID by the block store. Rejects with BlockUnavailableError after `timeoutMs`.
 */
export async function fetchNow (init: FetcherInit, wants: IndexedWant[], signal: AbortSignal): Promise<void> {
  const deadline = AbortSignal.timeout(init.timeoutMs)
  const fetchSignal = AbortSignal.any([signal, deadline])
  const stop = new AbortController()
  const sessionSignal = AbortSignal.any([fetchSignal, stop.signal])
  const byWant = new Map<BlockWant, number>(wants.map(w => [w, w.index]))
  const scheduler = new OnDemandScheduler(wants, (peer, want) => init.holders.holds(peer, byWant.get(want) ?? -1))
  const sessions = new Map<string, Promise<void>>()
  const failed = new Set<string>()
  let fatal: Error | undefined
  const errors: string[] = []
  const wakeOnAbort = (): void => { scheduler.wake() }
  fetchSignal.addEventListener('abort', wakeOnAbort)

  const sessionInit = {
    libp2p: init.libp2p,
    blockstore: init.blockstore,
    scheduler,
    signal: sessionSignal,
    maxInFlightBytes: DEFAULT_MAX_IN_FLIGHT_BYTES,
    batchBytes: DEFAULT_BATCH_BYTES,
    putConcurrency: DEFAULT_PUT_CONCURRENCY,
    timeoutMs: Math.min(SESSION_SILENCE_MS, init.timeoutMs),
    onConnect: () => {},
    onWire: (_peer: string, bytes: number) => { init.onWire(bytes) },
    ...(init.receiveBudget !== undefined ? { receiveBudget: init.receiveBudget } : {}),
    onStored: init.onStored,
    onFatal: (err: Error) => { fatal ??= err; stop.abort(err) }
  }

  try {
    await init.holders.refresh(fetchSignal)
    let lastRefresh = Date.now()
    while (scheduler.remaining > 0) {
      if (fatal !== undefined) throw fatal
      if (fetchSignal.aborted) break
      const pending = scheduler.pendingWants().map(w => byWant.get(w) as number)
      for (const peer of init.holders.peersFor(pending)) {
        const id = peer.toString()
        if (sessions.size >= MAX_SOURCES) break
        if (sessions.has(id) || failed.has(id)) continue
        const run = runBlockSession(sessionInit, peer).catch((err: Error) => {
          if (sessionSignal.aborted) return
          failed.add(id)
          errors.push(`${id}: ${err.message}`)
          init.log?.warn({ peer: id, err }, 'on-demand fetch from %s failed: %s', id, err.message)
        }).finally(() => { sessions.delete(id); scheduler.wake() })
        sessions.set(id, run)
      }
      if (sessions.size === 0 && Date.now() - lastRefresh >= 250) {
        // nobody to ask: peers may have connected, or gained the blocks, since
        failed.clear()
        await init.holders.refresh(fetchSignal, true).catch(() => {})
        lastRefresh = Date.now()
        continue
      }
      await Promise.race([scheduler.changed(), new Promise(resolve => setTimeout(resolve, 250))])
    }
    if (fatal !== undefined) throw fatal
    if (scheduler.remaining > 0) {
      signal.throwIfAborted()
      const first = scheduler.pendingWants()[0] as IndexedWant | undefined
      throw new BlockUnavailableError(`${init.label}: ${scheduler.remaining} block(s) (first: #${first?.index ?? '?'}) not received within ${init.timeoutMs} ms from ${init.holders.peers} peer(s) holding the version` + (errors.length > 0 ? ` (${errors.slice(-2).join('; ')})` : ''))
    }
  } finally {
    fetchSignal.removeEventListener('abort', wakeOnAbort)
    if (scheduler.remaining > 0) stop.abort(new Error('on-demand fetch given up'))
    scheduler.wake()
    await Promise.allSettled([...sessions.values()])
  }
}
