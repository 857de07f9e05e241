import type { Libp2p, PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Blockstore } from '@cachecloud/blockstore'
import { bytesMatchCid, cidOf, DAG_CBOR_CODEC, type CID } from '@cachecloud/core'
import { decodeReadMessage, decodeRecord, dirLinks, encodeReadMessage, FrameReader, MAX_CHUNK_BLOCK_BYTES, MAX_DIR_BLOCK_BYTES, MAX_FRAME_BYTES, MAX_WANTS, PERSONAL_READ_PROTOCOL, ProtocolError, ReadRefusedError, SEALED_PUT, StoreUnreachableError, type ReadMessage, type SnapshotRecord } from '@cachecloud/personal-format'

/** A snapshot committed at the store, as the read protocol returns it. */
export interface RemoteSnapshot {
  cid: CID
  bytes: Uint8Array
  record: SnapshotRecord
}

export interface StoreReaderInit {
  libp2p: Libp2p
  store: PeerId | Multiaddr
  /** The stream fails after this long without a message from the store. */
  timeoutMs: number
}

/**
 * The node's side of /cachecloud/personal-read/1.0.0: one stream, then any
 * number of requests. Every block received is checked against its CID, so a
 * store (or anyone between) can withhold data but not alter it; the sealed
 * content is then authenticated by the user key when it is opened.
 */
export class StoreReader {
  private timer?: NodeJS.Timeout
  /** Bytes received (frames and framing). */
  get bytesRead (): number { return this.reader.bytesRead }

  private constructor (private readonly stream: Stream, private readonly reader: FrameReader, private readonly timeoutMs: number) {}

  static async open (init: StoreReaderInit): Promise<StoreReader> {
    const signal = AbortSignal.timeout(init.timeoutMs)
    let stream: Stream
    try {
      const connection = await init.libp2p.dial(init.store, { signal })
      stream = await connection.newStream(PERSONAL_READ_PROTOCOL, { signal })
    } catch (err) {
      const why = (err as Error).message.split('\n')[0]
      throw new StoreUnreachableError(`data-center store ${init.store.toString()} not reachable: ${why}`, { cause: err })
    }
    return new StoreReader(stream, new FrameReader(stream, MAX_FRAME_BYTES), init.timeoutMs)
  }

  private async send (m: ReadMessage): Promise<void> {
    if (!this.stream.send(encodeReadMessage(m))) await this.stream.onDrain({ signal: AbortSignal.timeout(this.timeoutMs) })
  }

  private async next (): Promise<ReadMessage> {
    clearTimeout(this.timer)
    this.timer = setTimeout(() => { this.stream.abort(new ProtocolError('store read stalled')) }, this.timeoutMs)
    try {
      const frame = await this.reader.next()
      if (frame === undefined) throw new ProtocolError('store closed the read stream')
      const m = decodeReadMessage(frame)
      if (m.t === 'refused') throw new ReadRefusedError(m.reason, `store refused: ${m.message}`)
      return m
    } finally {
      clearTimeout(this.timer)
    }
  }

  /** The last committed snapshot of each node of `user` at or before `atMs` (default: now). */
  async heads (user: string, atMs?: number): Promise<RemoteSnapshot[]> {
    await this.send({ t: 'heads', user, atMs: atMs ?? null })
    const m = await this.next()
    if (m.t !== 'snapshots') throw new ProtocolError(`expected snapshots, got ${m.t}`)
    return m.records.map(bytes => {
      const record = decodeRecord(bytes)
      if (record.user !== user) throw new ProtocolError(`store answered a snapshot of ${record.user} for ${user}`)
      return { cid: cidOf(bytes, DAG_CBOR_CODEC), bytes, record }
    })
  }

  /** Up to MAX_WANTS blocks by CID, each checked against it. */
  async get (cids: CID[]): Promise<Array<[CID, Uint8Array]>> {
    const outstanding = new Map(cids.map(c => [c.toString(), c]))
    await this.send({ t: 'get', cids })
    const out: Array<[CID, Uint8Array]> = []
    let last = false
    while (!last) {
      const m = await this.next()
      if (m.t !== 'blocks') throw new ProtocolError(`expected blocks, got ${m.t}`)
      last = m.last
      for (const [cid, bytes] of m.blocks) {
        if (!outstanding.delete(cid.toString())) throw new ProtocolError(`unrequested block ${cid.toString()}`)
        if (bytes.byteLength > (cid.code === DAG_CBOR_CODEC ? MAX_DIR_BLOCK_BYTES : MAX_CHUNK_BLOCK_BYTES)) throw new ProtocolError(`block ${cid.toString()} too large`)
        if (!bytesMatchCid(cid, bytes)) throw new ProtocolError(`block ${cid.toString()} does not match its CID`)
        out.push([cid, bytes])
      }
    }
    if (outstanding.size > 0) throw new ProtocolError(`store did not send ${outstanding.size} requested blocks`)
    return out
  }

  async close (): Promise<void> {
    clearTimeout(this.timer)
    await this.stream.close().catch(() => { this.stream.abort(new ProtocolError('close failed')) })
  }
}

/**
 * Copies every block of a snapshot that the local block store lacks from the
 * store (directory blocks walked through their plaintext links, like the
 * store does when it receives one), then syncs. Returns what was fetched.
 */
export async function fetchSnapshot (reader: StoreReader, blockstore: Blockstore, snapshot: RemoteSnapshot): Promise<{ blocks: number, bytes: number }> {
  const queue: CID[] = [snapshot.record.root]
  const seen = new Set<string>([snapshot.record.root.toString()])
  const enqueue = (links: CID[]): void => {
    for (const l of links) { const k = l.toString(); if (!seen.has(k)) { seen.add(k); queue.push(l) } }
  }
  let blocks = 0
  let bytes = 0
  while (queue.length > 0) {
    const wants: CID[] = []
    while (queue.length > 0 && wants.length < MAX_WANTS) {
      const cid = queue.pop()!
      if (await blockstore.has(cid)) {
        if (cid.code === DAG_CBOR_CODEC) enqueue(dirLinks(await blockstore.get(cid)))
      } else {
        wants.push(cid)
      }
    }
    if (wants.length === 0) continue
    for (const [cid, data] of await reader.get(wants)) {
      await blockstore.put(cid, data, SEALED_PUT)
      blocks++; bytes += data.byteLength
      if (cid.code === DAG_CBOR_CODEC) enqueue(dirLinks(data))
    }
  }
  await blockstore.put(snapshot.cid, snapshot.bytes, SEALED_PUT)
  await blockstore.sync()
  return { blocks, bytes }
}
