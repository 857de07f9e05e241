import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import { Uint8ArrayList } from 'uint8arraylist'
import type { Logger } from 'pino'
import type { CID } from '@cachecloud/core'
import type { Blockstore } from '@cachecloud/blockstore'
import { CODEC_RAW, type EncodedBlock } from '@cachecloud/codec'
import type { Catalog } from '@cachecloud/image'
import { encodeManifest } from '@cachecloud/manifest'
import {
  BLOCKS_PROTOCOL, BLOCKS_PROTOCOL_V1, CATALOG_PROTOCOL, COALESCE_BYTES, MANIFEST_PROTOCOL, MAX_BLOCK_BYTES, MAX_CATALOG_REQUEST_BYTES,
  MAX_MANIFEST_REQUEST_BYTES, MAX_OUTSTANDING_WANTS, MAX_REQUEST_BYTES, DEFAULT_BLOCK_PROTOCOLS
} from './constants.js'
import { InvalidMessageError } from './errors.js'
import { ServableBlocks } from './servable.js'
import { decodeCatalogRequest, decodeManifestRequest, decodeWant, encodeBlockResponse, encodeCatalogResponse, encodeManifestResponse, type RemoteVersion } from './wire.js'
import { FrameReader } from '@cachecloud/frame'

export interface ServerInit {
  libp2p: Libp2p
  blockstore: Blockstore
  catalog: Catalog
  log?: Logger
  advertisePulling: boolean
  readAhead: number
  maxInboundStreams: number
  timeoutMs: number
  /** Waits until `bytes` of blocks may be sent to `peer` (a rate budget); unset: no limit. */
  sendBudget?: (peer: string, bytes: number) => Promise<void>
  /** Block protocol versions answered; default DEFAULT_BLOCK_PROTOCOLS (tests restrict it to act as an older node). */
  blockProtocols?: readonly string[]
}

/** Answers the three protocols from the local catalog and blockstore. */
export class TransferServer {
  private readonly servable: ServableBlocks

  constructor (private readonly init: ServerInit) {
    this.servable = new ServableBlocks(init.catalog)
  }

  async start (): Promise<void> {
    const options = { maxInboundStreams: this.init.maxInboundStreams }
    await this.init.libp2p.handle(CATALOG_PROTOCOL, async (stream, connection) => { await this.guard('catalog', stream, connection, async () => { await this.serveCatalog(stream) }) }, options)
    await this.init.libp2p.handle(MANIFEST_PROTOCOL, async (stream, connection) => { await this.guard('manifest', stream, connection, async () => { await this.serveManifest(stream) }) }, options)
    for (const protocol of this.blockProtocols()) {
      const encoded = protocol === BLOCKS_PROTOCOL
      await this.init.libp2p.handle(protocol, async (stream, connection) => { await this.guard('blocks', stream, connection, async () => { await this.serveBlocks(stream, connection.remotePeer.toString(), encoded) }) }, options)
    }
  }

  async stop (): Promise<void> {
    await this.init.libp2p.unhandle([CATALOG_PROTOCOL, MANIFEST_PROTOCOL, ...this.blockProtocols()])
  }

  private blockProtocols (): readonly string[] {
    return (this.init.blockProtocols ?? DEFAULT_BLOCK_PROTOCOLS).filter(p => p === BLOCKS_PROTOCOL || p === BLOCKS_PROTOCOL_V1)
  }

  /** Any failure resets the stream and is logged; a handler never throws into libp2p. */
  private async guard (what: string, stream: Stream, connection: Connection, serve: () => Promise<void>): Promise<void> {
    try {
      await serve()
    } catch (err) {
      this.init.log?.warn({ peer: connection.remotePeer.toString(), protocol: what, err }, 'reset %s stream: %s', what, (err as Error).message)
      stream.abort(err as Error)
    }
  }

  /** Reads exactly one request frame, within the timeout. */
  private async readRequest (stream: Stream, maxBytes: number): Promise<Uint8Array> {
    const reader = new FrameReader(stream, maxBytes)
    const signal = AbortSignal.timeout(this.init.timeoutMs)
    const onTimeout = (): void => { stream.abort(new InvalidMessageError('no request before the timeout')) }
    signal.addEventListener('abort', onTimeout)
    try {
      const body = await reader.next()
      if (body === undefined) throw new InvalidMessageError('stream closed without a request')
      return body.subarray()
    } finally {
      signal.removeEventListener('abort', onTimeout)
    }
  }

  private async reply (stream: Stream, frame: Parameters<Stream['send']>[0]): Promise<void> {
    if (!stream.send(frame)) await stream.onDrain()
    await stream.close()
  }

  private async serveCatalog (stream: Stream): Promise<void> {
    const { name } = decodeCatalogRequest(await this.readRequest(stream, MAX_CATALOG_REQUEST_BYTES))
    const entries = await this.init.catalog.list()
    const versions: RemoteVersion[] = entries
      .filter(e => (name === undefined || e.name === name) && (e.state === 'complete' || this.init.advertisePulling))
      .map(e => ({ name: e.name, version: e.version, cid: e.cid, state: e.state, size: e.size, blockSize: e.blockSize }))
    await this.reply(stream, encodeCatalogResponse(versions))
  }

  private async serveManifest (stream: Stream): Promise<void> {
    const cid = decodeManifestRequest(await this.readRequest(stream, MAX_MANIFEST_REQUEST_BYTES))
    const entry = (await this.init.catalog.list()).find(e => e.cid.equals(cid))
    let bytes: Uint8Array | undefined
    if (entry !== undefined) {
      const encoded = encodeManifest(await this.init.catalog.manifest(entry))
      if (encoded.cid.equals(cid)) bytes = encoded.bytes
    }
    await this.reply(stream, encodeManifestResponse(bytes))
  }

  /**
   * Reads WANT requests while answering earlier ones in order, reading up to
   * `readAhead` blocks from the store ahead of the socket. Only blocks held
   * (and checked on read) that belong to a catalogued version are sent;
   * anything else is answered not-found.
   * `encoded` (blocks/1.1.0): a block goes as it is stored, compressed or not,
   * checked by its record's crc32 (the receiver hashes it); blocks/1.0.0: raw,
   * decoded and verified against its CID.
   */
  private async serveBlocks (stream: Stream, peer: string, encoded: boolean): Promise<void> {
    const wants: CID[] = []
    let wantHead = 0
    let ended = false
    let failed: Error | undefined
    let wake: (() => void) | undefined
    const notify = (): void => { const w = wake; wake = undefined; w?.() }

    const readRequests = async (): Promise<void> => {
      try {
        for await (const body of new FrameReader(stream, MAX_REQUEST_BYTES)) {
          const cids = decodeWant(body)
          if (wants.length - wantHead + cids.length > MAX_OUTSTANDING_WANTS) {
            throw new InvalidMessageError(`more than ${MAX_OUTSTANDING_WANTS} blocks requested and unanswered`)
          }
          for (const cid of cids) wants.push(cid)
          notify()
        }
      } catch (err) {
        failed = err as Error
        stream.abort(failed)
      } finally {
        ended = true
        notify()
      }
    }
    const reading = readRequests()

    await this.servable.refresh()
    const get = async (cid: CID): Promise<EncodedBlock | undefined> => {
      try {
        // only blocks of catalogued versions: whatever else the store holds is not served here
        if (!await this.servable.has(cid)) return undefined
        const block: EncodedBlock = encoded ? await this.init.blockstore.getEncoded(cid) : rawBlock(await this.init.blockstore.get(cid))
        return block.bytes.byteLength <= MAX_BLOCK_BYTES ? block : undefined
      } catch {
        return undefined
      }
    }
    interface Read { cid: CID, bytes: Promise<EncodedBlock | undefined>, done: boolean, value?: EncodedBlock }
    const pending: Read[] = []
    while (failed === undefined) {
      while (pending.length < this.init.readAhead && wantHead < wants.length) {
        const read: Read = { cid: wants[wantHead++], bytes: Promise.resolve(undefined), done: false }
        read.bytes = get(read.cid).then(value => { read.done = true; read.value = value; return value })
        pending.push(read)
      }
      if (wantHead > 4096) { wants.splice(0, wantHead); wantHead = 0 }
      if (pending.length === 0) {
        if (ended) break
        await new Promise<void>(resolve => { wake = resolve })
        continue
      }
      // one write of every response already read : fewer, larger writes down the stack
      const frames = new Uint8ArrayList()
      const first = pending.shift()!
      const block = await first.bytes
      frames.append(encodeBlockResponse(first.cid, block?.bytes, block?.codec))
      while (pending.length > 0 && pending[0].done && frames.byteLength < COALESCE_BYTES) {
        const next = pending.shift()!
        frames.append(encodeBlockResponse(next.cid, next.value?.bytes, next.value?.codec))
      }
      if (this.init.sendBudget !== undefined) await this.init.sendBudget(peer, frames.byteLength)
      if (stream.writeStatus !== 'writable') break
      if (!stream.send(frames)) await stream.onDrain()
    }
    await reading
    if (failed !== undefined) throw failed
    if (stream.writeStatus === 'writable') await stream.close()
  }
}

function rawBlock (bytes: Uint8Array): EncodedBlock {
  return { codec: CODEC_RAW, bytes, length: bytes.byteLength }
}
