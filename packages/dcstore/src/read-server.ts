import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import { parseCid, type CID } from '@cachecloud/core'
import {
  BLOCKS_FRAME_BYTES, decodeReadMessage, encodeReadMessage, FrameReader, MAX_FRAME_BYTES, PERSONAL_READ_PROTOCOL, ProtocolError,
  type ReadMessage, type ReadRefusalReason
} from '@cachecloud/personal-format'
import type { Enrollment } from './enrollment.js'
import type { VersionIndex } from './version-index.js'
import type { DcStoreEvent } from './index.js'

export interface ReadServerInit {
  libp2p: Libp2p
  enrollment: Enrollment
  index: VersionIndex
  blocksFor: (user: string) => Promise<Blockstore>
  maxInboundStreams: number
  timeoutMs: number
  onEvent?: (e: DcStoreEvent) => void
  log?: Logger
}

class Refusal extends Error { constructor (readonly reason: ReadRefusalReason, message: string) { super(message) } }

/**
 * Answers /cachecloud/personal-read/1.0.0 (docs/formats/personal.md#read-protocol):
 * a node enrolled for a user gets that user's latest committed snapshots
 * (one per node) and any block of that user's block store. Everything it
 * serves is sealed with the user key except the snapshot records, which a
 * node of the user wrote; a node enrolled for other users gets nothing.
 */
export class ReadServer {
  constructor (private readonly init: ReadServerInit) {}

  async start (): Promise<void> {
    await this.init.libp2p.handle(
      PERSONAL_READ_PROTOCOL,
      async (stream, connection) => { await this.serve(stream, connection) },
      { maxInboundStreams: this.init.maxInboundStreams }
    )
  }

  async stop (): Promise<void> {
    await this.init.libp2p.unhandle(PERSONAL_READ_PROTOCOL)
  }

  private async serve (stream: Stream, connection: Connection): Promise<void> {
    const peer = connection.remotePeer.toString()
    const served = { bytes: 0, blocks: 0 }
    const send = async (m: ReadMessage): Promise<void> => {
      const frame = encodeReadMessage(m)
      served.bytes += frame.byteLength
      if (m.t === 'blocks') served.blocks += m.blocks.length
      if (!stream.send(frame)) await stream.onDrain()
    }
    // enrollment first: nothing of a node that is not enrolled is read
    await this.init.enrollment.refresh()
    if (!this.init.enrollment.isEnrolled(peer)) {
      await send({ t: 'refused', reason: 'node-not-enrolled', message: `node ${peer} is not enrolled` }).catch(() => {})
      await stream.close().catch(() => {})
      return
    }
    const reader = new FrameReader(stream, MAX_FRAME_BYTES)
    let timer: NodeJS.Timeout | undefined
    let blocks: Blockstore | undefined
    try {
      while (true) {
        clearTimeout(timer)
        timer = setTimeout(() => { stream.abort(new ProtocolError('read stream idle')) }, this.init.timeoutMs)
        const frame = await reader.next()
        if (frame === undefined) break
        const m = decodeReadMessage(frame)
        if (m.t === 'heads') {
          blocks = await this.authorize(peer, m.user)
          await send({ t: 'snapshots', records: await this.heads(blocks, m.user, m.atMs ?? Date.now()) })
        } else if (m.t === 'get') {
          if (blocks === undefined) throw new Refusal('invalid', 'ask for heads (naming the user) before blocks')
          await this.sendBlocks(blocks, m.cids, send)
        } else {
          throw new ProtocolError(`unexpected ${m.t} from a node`)
        }
      }
      await stream.close()
    } catch (err) {
      if (err instanceof Refusal) {
        this.init.log?.warn({ peer, reason: err.reason }, 'refused read: %s', err.message)
        await send({ t: 'refused', reason: err.reason, message: err.message }).catch(() => {})
        await stream.close().catch(() => {})
        return
      }
      this.init.log?.warn({ peer, err }, 'read stream failed: %s', (err as Error).message)
      stream.abort(err as Error)
    } finally {
      clearTimeout(timer)
      if (served.bytes > 0) this.init.onEvent?.({ type: 'read:served', ...served })
    }
  }

  private async authorize (peer: string, user: string): Promise<Blockstore> {
    const { enrollment } = this.init
    await enrollment.refresh()
    if (!enrollment.isEnrolled(peer)) throw new Refusal('node-not-enrolled', `node ${peer} is not enrolled`)
    if (!enrollment.mayWrite(peer, user)) throw new Refusal('user-not-enrolled', `user ${user} is not enrolled with node ${peer}`)
    return await this.init.blocksFor(user)
  }

  /** The record of the last committed snapshot of each node at or before `atMs`. */
  private async heads (blocks: Blockstore, user: string, atMs: number): Promise<Uint8Array[]> {
    const last = new Map<string, string>()
    for (const s of await this.init.index.latestSnapshots(user, atMs)) last.set(s.node, s.cid)
    return await Promise.all([...last.values()].map(async cid => await blocks.get(parseCid(cid))))
  }

  private async sendBlocks (blocks: Blockstore, cids: CID[], send: (m: ReadMessage) => Promise<void>): Promise<void> {
    let batch: Array<[CID, Uint8Array]> = []
    let batchBytes = 0
    for (const [i, cid] of cids.entries()) {
      if (!await blocks.has(cid)) throw new Refusal('not-found', `block ${cid.toString()} is not in this user's store`)
      const bytes = await blocks.get(cid)
      batch.push([cid, bytes]); batchBytes += bytes.byteLength
      const last = i === cids.length - 1
      if (last || batchBytes >= BLOCKS_FRAME_BYTES) {
        await send({ t: 'blocks', blocks: batch, last })
        batch = []; batchBytes = 0
      }
    }
  }
}
