import type { Libp2p } from '@libp2p/interface'
import { BlockCorruptError, type Blockstore } from '@cachecloud/blockstore'
import { CODEC_RAW, CODEC_ZSTD } from '@cachecloud/codec'
import { BLOCKS_PROTOCOL, DEFAULT_BLOCK_PROTOCOLS, MAX_CID_BYTES, MAX_FRAME_BYTES, MAX_OUTSTANDING_WANTS, MAX_WANTS_PER_REQUEST } from './constants.js'
import { InvalidMessageError, PeerMisbehavedError, SessionInterruptedError } from './errors.js'
import type { PeerTarget } from './client.js'
import { openStream } from './dial.js'
import type { BlockWant, PullScheduler } from './scheduler.js'
import { decodeBlockResponse, encodeWant, type BlockResponse } from './wire.js'
import { BlockBuffers } from './block-buffers.js'
import { FrameReader, FrameTooLargeError, InvalidVarintError, MAX_VARINT_BYTES, StreamTruncatedError } from '@cachecloud/frame'

export interface BlockSessionInit {
  libp2p: Libp2p
  blockstore: Blockstore
  scheduler: PullScheduler
  signal: AbortSignal
  maxInFlightBytes: number
  batchBytes: number
  putConcurrency: number
  timeoutMs: number
  /** Block protocol versions to ask for, preferred first; default DEFAULT_BLOCK_PROTOCOLS (tests restrict it to act as an older node). */
  blockProtocols?: readonly string[]
  /** Waits until `bytes` more may be read from `peer` (a WAN rate budget); reading pauses meanwhile, so the transport's flow control slows the sender. Default: none. */
  receiveBudget?: (peer: string, bytes: number) => Promise<void>
  /** The peer's id once connected. */
  onConnect(peer: string): void
  /** Bytes read from the stream, framing included (compressed, where blocks came compressed). */
  onWire(peer: string, bytes: number): void
  /** A block was verified and stored (the scheduler is told separately). */
  onStored(peer: string, want: BlockWant): void
  /** A local failure (not the peer's): the pull must stop. */
  onFatal(err: Error): void
}

/** Most framing bytes one block response may add to its block. */
const RESPONSE_OVERHEAD = 2 * MAX_VARINT_BYTES + 1 + MAX_CID_BYTES

/**
 * Fetches blocks from one peer over one /cachecloud/blocks/1.0.0 stream:
 * keeps up to `maxInFlightBytes` requested, matches responses to requests in
 * order, and stores each block (the blockstore verifies it against its CID).
 * Throws PeerMisbehavedError (after resetting the stream) when the peer
 * breaks the protocol; every unanswered block goes back to the scheduler.
 */
export async function runBlockSession (init: BlockSessionInit, target: PeerTarget): Promise<void> {
  const { libp2p, blockstore, scheduler, signal } = init
  const { connection, stream } = await openStream(libp2p, target, [...(init.blockProtocols ?? DEFAULT_BLOCK_PROTOCOLS)], signal)
  const peer = connection.remotePeer.toString()
  init.onConnect(peer)
  // blocks/1.1.0: blocks may come as zstd frames, and raw ones are stored as they come (the sender found them incompressible)
  const encoded = stream.protocol === BLOCKS_PROTOCOL
  const reader = new FrameReader(stream, MAX_FRAME_BYTES)
  const outstanding: BlockWant[] = []
  let head = 0
  let inFlightBytes = 0
  const puts = new Set<Promise<void>>()
  let failure: Error | undefined
  const misbehaved = (why: string, cause?: unknown): PeerMisbehavedError => new PeerMisbehavedError(peer, why, { cause })
  let wakeup: (() => void) | undefined
  const fail = (err: Error): void => {
    failure ??= err
    stream.abort(failure)
    wakeup?.()
  }
  const onAbort = (): void => { fail(signal.reason as Error) }
  signal.addEventListener('abort', onAbort)
  // Stream data is queued without backpressure until parsed: bound it by what was asked for.
  let arrived = 0
  // One watchdog for the session instead of a timer and a promise race per block: it fails the session when a
  // frame has been awaited for timeoutMs with no byte arriving (time spent storing is not the peer's)
  let waitingSince: number | undefined
  const watchdog = setInterval(() => {
    if (waitingSince !== undefined && Date.now() - waitingSince >= init.timeoutMs) {
      fail(misbehaved(`sent nothing for ${init.timeoutMs} ms with ${outstanding.length - head} blocks requested`))
    }
  }, Math.max(10, Math.min(1000, Math.floor(init.timeoutMs / 4))))
  const onMessage = (evt: { data: { byteLength: number } }): void => {
    if (waitingSince !== undefined) waitingSince = Date.now()
    arrived += evt.data.byteLength
    if (arrived - reader.consumed > inFlightBytes + (outstanding.length - head) * RESPONSE_OVERHEAD) {
      fail(misbehaved(`sent ${arrived - reader.consumed} bytes while at most ${inFlightBytes} of blocks were requested`))
    }
  }
  stream.addEventListener('message', onMessage)

  // Ask again once a batch's worth of room is free, not after every block: one WANT per block cost both ends a message, a yamux frame and a TLS record each.
  const refillBytes = Math.min(init.batchBytes, Math.floor(init.maxInFlightBytes / 4))
  const refillWants = MAX_OUTSTANDING_WANTS / 4
  const fill = (): void => {
    const unanswered = outstanding.length - head
    if (unanswered > 0 && (init.maxInFlightBytes - inFlightBytes < refillBytes || MAX_OUTSTANDING_WANTS - unanswered < refillWants)) return
    while (inFlightBytes < init.maxInFlightBytes && outstanding.length - head < MAX_OUTSTANDING_WANTS) {
      const count = Math.min(MAX_WANTS_PER_REQUEST, MAX_OUTSTANDING_WANTS - (outstanding.length - head))
      const wants = scheduler.take(peer, Math.min(init.batchBytes, init.maxInFlightBytes - inFlightBytes), count)
      if (wants.length === 0) return
      for (const want of wants) { outstanding.push(want); inFlightBytes += want.length }
      // requests are small: the write buffer stays bounded by MAX_OUTSTANDING_WANTS
      stream.send(encodeWant(wants.map(w => w.cid)))
    }
  }

  // blocks gathered from several chunks go into buffers reused once stored; the one being filled for the next frame's block
  const buffers = new BlockBuffers(init.putConcurrency + 8)
  let capacity = 0
  let gathered: Uint8Array | undefined
  const gather = (length: number): Uint8Array => (gathered = buffers.take(length, capacity))
  const release = (bytes: Uint8Array): void => { buffers.give(bytes) }

  const store = (want: BlockWant, response: Required<BlockResponse>, pooled: boolean): void => {
    const written = encoded
      // nothing here reads the bytes again: where they fill a buffer of their own (gathered from several chunks), the store may move it to a codec thread
      ? blockstore.putEncoded(
        want.cid,
        { codec: response.codec, bytes: response.bytes, length: want.length },
        pooled ? { detachable: true, wholeBuffer: true, release } : { detachable: true }
      )
      : blockstore.put(want.cid, response.bytes)
    const put = written.then(() => {
      init.onStored(peer, want)
      scheduler.received(peer, want)
    }, (err: Error & { code?: string }) => {
      scheduler.release(peer, [want])
      if (err instanceof BlockCorruptError) fail(misbehaved(`sent bytes that do not match block ${want.cid.toString()}`, err))
      else { init.onFatal(err); fail(err) }
    }).finally(() => {
      puts.delete(put)
      const wake = putDone
      putDone = undefined
      wake?.()
    })
    puts.add(put)
  }
  // a put slot frees: one waiter, not a race over every put in flight (that attached a reaction to each, per block)
  let putDone: (() => void) | undefined

  let wireSinceBudget = 0
  const nextFrame = async (): Promise<BlockResponse> => {
    const before = reader.bytesRead
    waitingSince = Date.now()
    try {
      const body = await reader.next()
      if (body === undefined) throw new SessionInterruptedError(peer, `the stream closed with ${outstanding.length - head} blocks unanswered`)
      gathered = undefined
      capacity = outstanding[head]?.length ?? 0
      return decodeBlockResponse(body, encoded, encoded ? gather : undefined)
    } catch (err) {
      if (failure !== undefined) throw failure
      if (err instanceof StreamTruncatedError) throw new SessionInterruptedError(peer, err.message, { cause: err })
      if (err instanceof InvalidMessageError || err instanceof FrameTooLargeError || err instanceof InvalidVarintError) {
        throw misbehaved(
          (err as Error).message,
          err
        )
      }
      throw err
    } finally {
      waitingSince = undefined
      init.onWire(peer, reader.bytesRead - before)
      wireSinceBudget += reader.bytesRead - before
    }
  }

  try {
    while (true) {
      if (failure !== undefined) throw failure
      fill()
      if (outstanding.length === head) {
        if (scheduler.remaining === 0 || !scheduler.mayHaveWorkFor(peer)) break
        await Promise.race([scheduler.changed(), new Promise<void>(resolve => { wakeup = resolve }), ...puts])
        continue
      }
      const response = await nextFrame()
      if (init.receiveBudget !== undefined) {
        const bytes = wireSinceBudget
        wireSinceBudget = 0
        await init.receiveBudget(peer, bytes)
      }
      const want = outstanding[head]
      const expected: boolean = response.cid.equals(want.cid)
      if (!expected) throw misbehaved(`sent block ${response.cid.toString()}, expected ${want.cid.toString()}`)
      if (response.bytes !== undefined && response.codec === CODEC_RAW && response.bytes.byteLength !== want.length) {
        throw misbehaved(`sent ${response.bytes.byteLength} bytes for block ${want.cid.toString()} of ${want.length} bytes`)
      }
      // a compressed block is sent only where it is smaller (the in-flight bound counts raw lengths)
      if (response.bytes !== undefined && response.codec === CODEC_ZSTD && response.bytes.byteLength >= want.length) {
        throw misbehaved(`sent a ${response.bytes.byteLength}-byte zstd frame for block ${want.cid.toString()} of ${want.length} bytes`)
      }
      head++
      inFlightBytes -= want.length
      if (head > 4096) { outstanding.splice(0, head); head = 0 }
      if (response.bytes === undefined) {
        scheduler.notFound(peer, want)
        continue
      }
      store(
        want,
        { cid: response.cid, bytes: response.bytes, codec: response.codec },
        gathered !== undefined && response.bytes === gathered && gathered.byteLength <= want.length
      )
      while (puts.size >= init.putConcurrency) await new Promise<void>(resolve => { putDone = resolve })
    }
    await Promise.all(puts)
    if (failure !== undefined) throw failure
    await stream.close({ signal })
  } catch (err) {
    const reason = failure ?? err as Error
    stream.abort(reason)
    throw reason
  } finally {
    clearInterval(watchdog)
    signal.removeEventListener('abort', onAbort)
    stream.removeEventListener('message', onMessage)
    await Promise.allSettled(puts)
    scheduler.release(peer, outstanding.slice(head))
  }
}
