import type { Libp2p } from '@libp2p/interface'
import type { CID } from '@cachecloud/core'
import type { ImageManifest } from '@cachecloud/manifest'
import type { Transfer, TransferInit } from './index.js'
import { requestCatalog, requestManifest, withTimeout, type PeerTarget } from './client.js'
import {
  DEFAULT_ADVERTISE_PULLING, DEFAULT_BATCH_BYTES, DEFAULT_COMMIT_BYTES, DEFAULT_MAX_IN_FLIGHT_BYTES,
  DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_PUT_CONCURRENCY, DEFAULT_SERVER_READ_AHEAD, DEFAULT_TIMEOUT_MS
} from './constants.js'
import { pull, type PullContext, type PullInit, type PullResult } from './pull.js'
import { createWorkQueueScheduler } from './scheduler.js'
import { TransferServer } from './server.js'
import type { RemoteVersion } from './wire.js'

export class CacheCloudTransfer implements Transfer {
  private readonly server: TransferServer
  private readonly context: PullContext
  private readonly libp2p: Libp2p
  private readonly timeoutMs: number

  constructor (init: TransferInit) {
    this.libp2p = init.libp2p
    this.timeoutMs = init.timeoutMs ?? DEFAULT_TIMEOUT_MS
    this.server = new TransferServer({
      libp2p: init.libp2p,
      blockstore: init.blockstore,
      catalog: init.catalog,
      log: init.logger,
      advertisePulling: init.advertisePulling ?? DEFAULT_ADVERTISE_PULLING,
      readAhead: init.serverReadAhead ?? DEFAULT_SERVER_READ_AHEAD,
      maxInboundStreams: init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS,
      timeoutMs: this.timeoutMs,
      sendBudget: init.sendBudget,
      blockProtocols: init.blockProtocols
    })
    this.context = {
      libp2p: init.libp2p,
      blockstore: init.blockstore,
      catalog: init.catalog,
      trust: init.trust,
      log: init.logger,
      createScheduler: init.createScheduler ?? createWorkQueueScheduler,
      maxInFlightBytes: init.maxInFlightBytes ?? DEFAULT_MAX_IN_FLIGHT_BYTES,
      batchBytes: init.batchBytes ?? DEFAULT_BATCH_BYTES,
      commitBytes: init.commitBytes ?? DEFAULT_COMMIT_BYTES,
      putConcurrency: init.putConcurrency ?? DEFAULT_PUT_CONCURRENCY,
      timeoutMs: this.timeoutMs,
      blockProtocols: init.blockProtocols,
      receiveBudget: init.receiveBudget
    }
  }

  async start (): Promise<void> { await this.server.start() }
  async stop (): Promise<void> { await this.server.stop() }

  async listVersions (peer: PeerTarget, options: { name?: string, signal?: AbortSignal } = {}): Promise<RemoteVersion[]> {
    return (await requestCatalog(this.libp2p, peer, withTimeout(this.timeoutMs, options.signal), options.name)).versions
  }

  async fetchManifest (peer: PeerTarget, cid: CID, options: { signal?: AbortSignal } = {}): Promise<ImageManifest> {
    return (await requestManifest(this.libp2p, peer, cid, withTimeout(this.timeoutMs, options.signal))).manifest
  }

  async pull (init: PullInit): Promise<PullResult> {
    return await pull(this.context, init)
  }
}
