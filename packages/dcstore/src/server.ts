import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import { bytesMatchCid, CacheCloudError, cidOf, DAG_CBOR_CODEC, parseCid, type CID } from '@cachecloud/core'
import {
  applyDirDelta, decodeMessage, decodeRecord, deriveUserKeys, dirLinks, encodeMessage, FrameReader, MAX_CHUNK_BLOCK_BYTES, MAX_DIR_BLOCK_BYTES,
  MAX_FRAME_BYTES, MAX_WANTS, PERSONAL_PROTOCOL, PERSONAL_REPAIR_PROTOCOL, ProtocolError, unwrapUserKey, type Message, type RefusalReason, type SnapshotRecord
} from '@cachecloud/personal-format'
import { BACKEND_CONCURRENCY, MAX_CLOCK_SKEW_MS, MAX_REJECTED_SNAPSHOTS } from './constants.js'
import type { Enrollment } from './enrollment.js'
import { indexRows } from './ingest.js'
import type { PendingRepairs } from './repair-pending.js'
import type { VersionIndex } from './version-index.js'
import type { DcStoreEvent } from './index.js'

export interface ServerInit {
  libp2p: Libp2p
  enrollment: Enrollment
  index: VersionIndex
  blocksFor: (user: string) => Promise<Blockstore>
  discoveryPrivateKey: Uint8Array
  maxInboundStreams: number
  timeoutMs: number
  commitBytes: number
  maxTreeEntries: number
  /** Snapshots a repair left lacking blocks: wanted again from their node over 1.2.0. */
  repairs: PendingRepairs
  onEvent?: (e: DcStoreEvent) => void
  log?: Logger
}

/** What one replication stream moved (the store's metrics). */
interface Moved { blocks: number, bytes: number, stored: number }

/** How a walk treats the node's answers: `absent` takes an empty block as "not held" (1.2.0 repair wants) instead of a protocol error. */
interface WalkOptions { opaque?: Set<string>, absent?: (cid: CID) => void }

class Refusal extends Error { constructor (readonly reason: RefusalReason, message: string) { super(message) } }

/**
 * Answers /cachecloud/personal/1.1.0 and 1.2.0: checks enrollment, walks the offered
 * snapshot's DAG from its root, wants every block it lacks (a held directory
 * block is read locally and walked too, so a cut replication resumes without
 * resending), verifies each block against its CID, then makes the blocks
 * durable and commits the snapshot to the index in one transaction: a
 * snapshot is visible only when complete, and offering it again is a no-op.
 * Over 1.2.0 it then wants what a repair left missing of the node's earlier
 * snapshots of the user (docs/formats/personal.md, "Version 1.2.0").
 */
export class ReplicationServer {
  /** Snapshots refused as invalid (CID -> why), the latest MAX_REJECTED_SNAPSHOTS: a node re-offering one every minute costs a lookup. */
  private readonly rejected = new Map<string, string>()

  constructor (private readonly init: ServerInit) {}

  private reject (cid: string, why: string): void {
    this.rejected.set(cid, why)
    if (this.rejected.size > MAX_REJECTED_SNAPSHOTS) this.rejected.delete(this.rejected.keys().next().value!)
  }

  async start (): Promise<void> {
    const options = { maxInboundStreams: this.init.maxInboundStreams }
    await this.init.libp2p.handle(PERSONAL_PROTOCOL, async (stream, connection) => { await this.serve(stream, connection, false) }, options)
    await this.init.libp2p.handle(PERSONAL_REPAIR_PROTOCOL, async (stream, connection) => { await this.serve(stream, connection, true) }, options)
  }

  async stop (): Promise<void> {
    await this.init.libp2p.unhandle(PERSONAL_PROTOCOL)
    await this.init.libp2p.unhandle(PERSONAL_REPAIR_PROTOCOL)
  }

  /** `repairs`: the node speaks 1.2.0, so blocks of its earlier snapshots that a repair left missing may be wanted too. */
  private async serve (stream: Stream, connection: Connection, repairs: boolean): Promise<void> {
    const peer = connection.remotePeer.toString()
    const send = async (m: Message): Promise<void> => { if (!stream.send(encodeMessage(m))) await stream.onDrain() }
    // enrollment first: a node that is not enrolled gets its refusal before a byte of its offer is read
    await this.init.enrollment.refresh()
    if (!this.init.enrollment.isEnrolled(peer)) {
      this.init.log?.warn({ peer, reason: 'node-not-enrolled' }, 'refused snapshot: node is not enrolled')
      await send({ t: 'refused', reason: 'node-not-enrolled', message: `node ${peer} is not enrolled` }).catch(() => {})
      await stream.close().catch(() => {})
      return
    }
    const reader = new FrameReader(stream, MAX_FRAME_BYTES)
    const moved: Moved = { blocks: 0, bytes: 0, stored: 0 }
    let timer: NodeJS.Timeout | undefined
    const next = async (): Promise<Message> => {
      clearTimeout(timer)
      timer = setTimeout(() => { stream.abort(new ProtocolError('replication stalled')) }, this.init.timeoutMs)
      const frame = await reader.next()
      if (frame === undefined) throw new ProtocolError('node closed the stream')
      return decodeMessage(frame)
    }
    try {
      const offer = await next()
      if (offer.t !== 'offer') throw new ProtocolError(`expected offer, got ${offer.t}`)
      const { user, ...result } = await this.receive(peer, offer.record, next, send, moved)
      if (repairs) await this.repairEarlier(peer, user, next, send, moved)
      await send({ t: 'done', ...result })
      await stream.close()
    } catch (err) {
      if (err instanceof Refusal) {
        this.init.log?.warn({ peer, reason: err.reason }, 'refused snapshot: %s', err.message)
        await send({ t: 'refused', reason: err.reason, message: err.message }).catch(() => {})
        await stream.close().catch(() => {})
        return
      }
      this.init.log?.warn({ peer, err }, 'replication stream failed: %s', (err as Error).message)
      stream.abort(err as Error)
    } finally {
      clearTimeout(timer)
      moved.bytes = reader.bytesRead
      if (moved.bytes > 0) this.init.onEvent?.({ type: 'replication:received', ...moved })
    }
  }

  /**
   * The blocks a repair dropped of this node's earlier snapshots of `user`
   * (repair-pending.json), wanted snapshot by snapshot: a snapshot whose
   * walk ends with every block held is whole again; one whose node answers
   * a block as not held is not asked again (check names it).
   */
  private async repairEarlier (peer: string, user: string, next: () => Promise<Message>, send: (m: Message) => Promise<void>, moved: Moved): Promise<void> {
    const { repairs } = this.init
    const waiting = repairs.of(user, peer)
    if (waiting.length === 0) return
    const blocks = await this.init.blocksFor(user)
    for (const w of waiting) {
      const record = parseCid(w.snapshot)
      let absent = 0
      // the record is a block too (wanted when lost), but not a directory to walk
      await this.fetchMissing(blocks, [record, parseCid(w.root)], next, send, moved, { opaque: new Set([w.snapshot]), absent: () => { absent++ } })
      await blocks.sync()
      if (absent === 0) await repairs.resolve(w.snapshot); else await repairs.unavailable(w.snapshot, absent)
      this.init.log?.info({ peer, user, snapshot: w.snapshot, absent }, absent === 0 ? 'repaired snapshot' : 'snapshot not repaired: its node lacks blocks')
    }
  }

  private async receive (
    peer: string, recordBytes: Uint8Array, next: () => Promise<Message>, send: (m: Message) => Promise<void>, moved: Moved
  ): Promise<{ status: 'committed' | 'present', files: number, user: string }> {
    const { enrollment, index } = this.init
    let record
    try { record = decodeRecord(recordBytes) } catch (err) { throw new Refusal('invalid', `bad snapshot record: ${(err as Error).message}`) }
    if (record.node !== peer) throw new Refusal('node-mismatch', `snapshot was taken by ${record.node}, offered by ${peer}`)
    if (!enrollment.mayWrite(peer, record.user)) throw new Refusal('user-not-enrolled', `user ${record.user} is not enrolled with node ${peer}`)
    const cid = cidOf(recordBytes, DAG_CBOR_CODEC)
    if (await index.hasSnapshot(cid.toString())) return { status: 'present', files: record.files, user: record.user }
    await this.checkHistory(record)
    let keys
    try { keys = deriveUserKeys(unwrapUserKey(record.keys.discovery, this.init.discoveryPrivateKey)) } catch (err) {
      throw new Refusal('invalid', `the user key is not wrapped for this store's discovery key: ${(err as Error).message}`)
    }
    if (this.rejected.has(cid.toString())) throw new Refusal('invalid', `snapshot ${cid.toString()} was refused before: ${this.rejected.get(cid.toString())!}`)
    const blocks = await this.init.blocksFor(record.user)
    await this.fetchMissing(blocks, [record.root], next, send, moved)
    let rows
    try { rows = await indexRows(blocks, keys, cid, record, this.init.maxTreeEntries) } catch (err) {
      if (!(err instanceof CacheCloudError)) throw err
      // a forged tree (names out of order, more entries than stated): refused, and at once when offered again
      this.reject(cid.toString(), err.message)
      throw new Refusal('invalid', `snapshot ${cid.toString()} is invalid: ${err.message}`)
    }
    if (await blocks.put(cid, recordBytes)) moved.stored++
    await blocks.sync()
    const added = await index.commitSnapshot(rows.snapshot, rows.files)
    this.init.log?.info({ peer, user: record.user, snapshot: cid.toString(), files: rows.files.length, added }, 'committed snapshot')
    return { status: added ? 'committed' : 'present', files: rows.files.length, user: record.user }
  }

  /**
   * A node sets its own snapshot times and parents: a time in the future
   * (beyond MAX_CLOCK_SKEW_MS) or before the node's latest committed snapshot,
   * or a parent that is another node's or user's snapshot, is refused.
   * (Retention goes by the time the store committed a snapshot, not this one.)
   */
  private async checkHistory (record: SnapshotRecord): Promise<void> {
    const { index } = this.init
    const timeMs = Date.parse(record.time)
    if (timeMs > Date.now() + MAX_CLOCK_SKEW_MS) throw new Refusal('invalid', `snapshot time ${record.time} is in the future (the node's clock is off?)`)
    const latest = (await index.latestSnapshots(record.user, Number.MAX_SAFE_INTEGER)).find(s => s.node === record.node)
    if (latest !== undefined && timeMs < latest.timeMs) throw new Refusal('invalid', `snapshot time ${record.time} is before the node's previous snapshot (${new Date(latest.timeMs).toISOString()})`)
    if (record.parent !== null && await index.hasSnapshot(record.parent.toString())) {
      const own = (await index.snapshots({ user: record.user, node: record.node })).some(s => s.cid === record.parent!.toString())
      if (!own) throw new Refusal('invalid', `parent ${record.parent.toString()} is not a snapshot of ${record.user} by this node`)
    }
  }

  /**
   * Walks the DAG from `roots`, wanting what is missing, until every block is
   * held (`opaque` ones are fetched, not walked). Lookups and puts go BACKEND_CONCURRENCY at a time (an object
   * store answers each request in a round trip); every put is settled before
   * a commit point and before the walk ends.
   */
  private async fetchMissing (
    blocks: Blockstore,
    roots: CID[],
    next: () => Promise<Message>,
    send: (m: Message) => Promise<void>,
    moved: Moved,
    walk: WalkOptions = {}
  ): Promise<void> {
    const queue: CID[] = [...roots]
    const seen = new Set<string>(roots.map(r => r.toString()))
    const walked = (cid: CID): boolean => cid.code === DAG_CBOR_CODEC && walk.opaque?.has(cid.toString()) !== true
    let uncommitted = 0
    /** Blocks whose delta named a base this store lacks: wanted again, whole. */
    const whole = new Set<string>()
    const enqueue = (links: CID[]): void => {
      for (const l of links) { const k = l.toString(); if (!seen.has(k)) { seen.add(k); queue.push(l) } }
    }
    const inflight = new Set<Promise<void>>()
    let failure: unknown
    const put = async (cid: CID, bytes: Uint8Array): Promise<void> => {
      const p: Promise<void> = blocks.put(
        cid,
        bytes
      ).then(added => { if (added) moved.stored++ }, (err: unknown) => { failure ??= err }).finally(() => inflight.delete(p))
      inflight.add(p)
      if (inflight.size >= BACKEND_CONCURRENCY) await Promise.race(inflight)
      if (failure !== undefined) throw failure
    }
    const settle = async (): Promise<void> => {
      await Promise.all(inflight)
      if (failure !== undefined) throw failure
    }
    try {
      while (queue.length > 0) {
        const batch: CID[] = []
        while (queue.length > 0 && batch.length < MAX_WANTS) batch.push(queue.pop()!)
        const held = await mapBounded(batch, BACKEND_CONCURRENCY, async cid => await blocks.has(cid))
        const wants: CID[] = []
        for (const [i, cid] of batch.entries()) {
          if (!held[i]) wants.push(cid)
          else if (walked(cid)) enqueue(dirLinks(await blocks.get(cid)))
        }
        if (wants.length === 0) continue
        let answered = 0
        await send({ t: 'want', cids: wants, whole: wants.filter(c => whole.has(c.toString())) })
        let last = false
        while (!last) {
          const m = await next()
          if (m.t !== 'blocks') throw new ProtocolError(`expected blocks, got ${m.t}`)
          last = m.last
          for (const payload of m.blocks) {
            // blocks come in the order wanted
            const cid = wants[answered++]
            if (cid === undefined) throw new ProtocolError('more blocks than wanted')
            const isDir = cid.code === DAG_CBOR_CODEC
            let bytes: Uint8Array
            if (payload instanceof Uint8Array && payload.byteLength === 0 && walk.absent !== undefined) {
              // 1.2.0: the node no longer has this block of an earlier snapshot
              walk.absent(cid)
              continue
            } else if (payload instanceof Uint8Array) {
              bytes = payload
            } else {
              if (!isDir || whole.has(cid.toString())) throw new ProtocolError(`block ${cid.toString()} must be sent whole`)
              if (!await blocks.has(payload.base)) { whole.add(cid.toString()); queue.push(cid); continue }
              bytes = applyDirDelta(await blocks.get(payload.base), payload)
            }
            if (bytes.byteLength > (isDir ? MAX_DIR_BLOCK_BYTES : MAX_CHUNK_BLOCK_BYTES)) throw new ProtocolError(`block ${cid.toString()} too large`)
            if (!bytesMatchCid(cid, bytes)) throw new ProtocolError(`block ${cid.toString()} does not match its CID`)
            await put(cid, bytes)
            moved.blocks++
            uncommitted += bytes.byteLength
            if (walked(cid)) enqueue(dirLinks(bytes))
          }
          // commit point: blocks made durable here are not wanted again if the replication is cut
          if (uncommitted >= this.init.commitBytes) { await settle(); await blocks.sync(); uncommitted = 0 }
        }
        if (answered < wants.length) throw new ProtocolError(`${wants.length - answered} wanted blocks were not sent`)
      }
      await settle()
    } finally {
      // a failed stream leaves no put running behind it
      await Promise.all(inflight)
    }
  }
}

/** `fn` over `items`, at most `limit` at once, results in order. */
async function mapBounded<T, R> (items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length)
  let i = 0
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (i < items.length) { const k = i++; out[k] = await fn(items[k]) }
  }))
  return out
}
