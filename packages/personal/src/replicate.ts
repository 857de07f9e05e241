import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import type { Blockstore } from '@cachecloud/blockstore'
import { DAG_CBOR_CODEC, isIntegrityFailure, isNotFound, type CID, type ProgressOptions } from '@cachecloud/core'
import { BLOCKS_FRAME_BYTES, decodeMessage, decodeRecord, deltaBody, dirLinks, encodeDirDelta, encodeMessage, FrameReader, MAX_FRAME_BYTES, PERSONAL_PROTOCOL, PERSONAL_REPAIR_PROTOCOL, ProtocolError, ReplicationRefusedError, type DirDelta } from '@cachecloud/personal-format'
import * as dagCbor from '@ipld/dag-cbor'

export interface ReplicateInit extends ProgressOptions<'personal:replicate'> {
  libp2p: Libp2p
  /** The data-center store. */
  store: PeerId | Multiaddr
  blockstore: Blockstore
  /** Snapshot record CID and bytes (as logged). */
  record: { cid: CID, bytes: Uint8Array, root: CID }
  signal?: AbortSignal
  timeoutMs: number
  /** Per directory block of the snapshot, a block the store holds to send it as a delta of (pairDirBlocks against the last committed snapshot). */
  deltaBases?: Map<string, CID>
}

export interface ReplicateResult {
  status: 'committed' | 'present'
  blocksSent: number
  /** Block bytes sent (sealed chunks and directory blocks; a delta counts its encoded size). */
  bytesSent: number
  /** Directory blocks sent as deltas. */
  deltas: number
  /** Bytes of every frame sent: offer, blocks and their framing. */
  wireBytesOut: number
  /** Bytes read from the stream: the store's WANTs and answer. */
  wireBytesIn: number
}

/** Every block CID reachable from a root directory block (added to `out`), read from the local store without a key. */
export async function reachable (blockstore: Pick<Blockstore, 'get'>, root: CID, out = new Set<string>()): Promise<Set<string>> {
  out.add(root.toString())
  const stack = [root]
  while (stack.length > 0) {
    const dir = stack.pop()!
    for (const link of dirLinks(await blockstore.get(dir))) {
      const key = link.toString()
      if (out.has(key)) continue
      out.add(key)
      if (link.code === DAG_CBOR_CODEC) stack.push(link)
    }
  }
  return out
}

/**
 * The blocks of the node's earlier snapshots of the user (the offered
 * record's parent chain), walked back only as far as a store's want needs:
 * what a store repairing lost blocks may ask for (protocol 1.2.0). A part
 * this node cannot read any more is skipped (its blocks are answered empty).
 */
class Ancestors {
  private next: CID | null
  constructor (private readonly blockstore: Pick<Blockstore, 'get'>, private readonly user: string, parent: CID | null, private readonly known: Set<string>) { this.next = parent }

  async has (cid: CID): Promise<boolean> {
    const key = cid.toString()
    while (!this.known.has(key) && this.next !== null) {
      const at = this.next
      this.next = null
      this.known.add(at.toString())
      try {
        const record = decodeRecord(await this.blockstore.get(at))
        if (record.user !== this.user) break
        this.next = record.parent
        await reachable(this.blockstore, record.root, this.known)
      } catch (err) {
        if (!isNotFound(err) && !isIntegrityFailure(err)) throw err
      }
    }
    return this.known.has(key)
  }
}

const NOT_HELD = new Uint8Array(0)

/**
 * Offers one snapshot to the store and sends the blocks it wants until it
 * answers committed (or already present). Serves only blocks of this
 * snapshot (over 1.2.0 also of this node's earlier snapshots of the same
 * user, which the store had before): a store cannot fish for other blocks
 * of the node.
 */
export async function replicateSnapshot (init: ReplicateInit): Promise<ReplicateResult> {
  const allowed = await reachable(init.blockstore, init.record.root)
  // the record itself too: a store that lost it (a repaired pack) asks for it like any block
  allowed.add(init.record.cid.toString())
  const signal = init.signal === undefined ? AbortSignal.timeout(init.timeoutMs) : AbortSignal.any([init.signal, AbortSignal.timeout(init.timeoutMs)])
  const connection = await init.libp2p.dial(init.store, { signal })
  // 1.2.0 first: a store that repaired lost blocks may then want those of earlier snapshots too (an older store speaks 1.1.0)
  const stream = await connection.newStream([PERSONAL_REPAIR_PROTOCOL, PERSONAL_PROTOCOL], { signal })
  const offered = stream.protocol === PERSONAL_REPAIR_PROTOCOL ? decodeRecord(init.record.bytes) : undefined
  const ancestors = offered === undefined ? undefined : new Ancestors(init.blockstore, offered.user, offered.parent, new Set(allowed))
  const reader = new FrameReader(stream, MAX_FRAME_BYTES)
  const onAbort = (): void => { stream.abort(signal.reason as Error) }
  signal.addEventListener('abort', onAbort)
  const result: ReplicateResult = { status: 'committed', blocksSent: 0, bytesSent: 0, deltas: 0, wireBytesOut: 0, wireBytesIn: 0 }
  const send = async (frame: ReturnType<typeof encodeMessage>): Promise<void> => {
    result.wireBytesOut += frame.byteLength
    if (!stream.send(frame)) await stream.onDrain({ signal })
  }
  try {
    await send(encodeMessage({ t: 'offer', record: init.record.bytes }))
    while (true) {
      const frame = await reader.next()
      if (frame === undefined) throw new ProtocolError('store closed the stream before answering')
      const msg = decodeMessage(frame)
      if (msg.t === 'done') {
        result.status = msg.status
        break
      }
      if (msg.t === 'refused') throw new ReplicationRefusedError(msg.reason, `store refused snapshot ${init.record.cid.toString()}: ${msg.message}`)
      if (msg.t !== 'want') throw new ProtocolError(`unexpected ${msg.t} from the store`)
      let batch: Array<Uint8Array | DirDelta> = []
      let batchBytes = 0
      const whole = new Set((msg.whole ?? []).map(c => c.toString()))
      for (const [i, cid] of msg.cids.entries()) {
        let bytes: Uint8Array
        if (allowed.has(cid.toString())) {
          bytes = await init.blockstore.get(cid)
        } else {
          if (ancestors === undefined) throw new ProtocolError(`store wants ${cid.toString()}, which is not in the snapshot`)
          // a block of an earlier snapshot for a store's repair; one this node does not have (any more) is answered empty
          const held = async (): Promise<Uint8Array> => await init.blockstore.get(cid).catch((err: unknown) => {
            if (isNotFound(err) || isIntegrityFailure(err)) return NOT_HELD
            throw err
          })
          bytes = await ancestors.has(cid) ? await held() : NOT_HELD
        }
        const base = whole.has(cid.toString()) || bytes === NOT_HELD ? undefined : init.deltaBases?.get(cid.toString())
        const delta = base === undefined ? undefined : encodeDirDelta(base, await init.blockstore.get(base), bytes)
        const size = delta === undefined ? bytes.byteLength : dagCbor.encode(deltaBody(delta)).byteLength
        batch.push(delta ?? bytes); batchBytes += size
        result.blocksSent++; result.bytesSent += size
        if (delta !== undefined) result.deltas++
        const last = i === msg.cids.length - 1
        if (last || batchBytes >= BLOCKS_FRAME_BYTES) {
          await send(encodeMessage({ t: 'blocks', blocks: batch, last }))
          batch = []; batchBytes = 0
          init.onProgress?.({ type: 'personal:replicate', done: result.bytesSent, total: 0, unit: 'bytes', detail: { blocks: result.blocksSent } })
        }
      }
    }
    await stream.close({ signal })
    result.wireBytesIn = reader.bytesRead
    return result
  } catch (err) {
    stream.abort(err as Error)
    throw err
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}
