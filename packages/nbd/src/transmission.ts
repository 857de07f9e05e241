import type { Socket } from 'node:net'
import { isDiskFull } from '@cachecloud/core'
import {
  CMD_DISC, CMD_FLAG_FUA, CMD_FLUSH, CMD_READ, CMD_TRIM, CMD_WRITE, MAX_IN_FLIGHT_BYTES, MAX_REQUEST_BYTES, NBD_EINVAL, NBD_EIO, NBD_ENOSPC,
  NBD_ENOTSUP, NBD_EPERM,
  NBD_ESHUTDOWN, REPLY_HEADER_BYTES, REQUEST_HEADER_BYTES, REQUEST_MAGIC, SIMPLE_REPLY_MAGIC
} from './constants.js'
import { DeviceError, NbdProtocolError } from './errors.js'
import type { BlockDevice, NbdRequestEvent } from './index.js'
import type { SocketReader } from './socket-reader.js'

export interface TransmissionInit {
  socket: Socket
  reader: SocketReader
  device: BlockDevice
  exportName: string
  concurrency: number
  /** Aborted when the server stops or the client goes away: device reads in progress give up. */
  signal: AbortSignal
  onRequest?: (event: NbdRequestEvent) => void
}

/** The errno to send for a failed device operation: the device's own, ENOSPC for a full disk, otherwise EIO. */
function errnoOf (err: unknown): number {
  if (err instanceof DeviceError) return err.errno
  if (isDiskFull(err)) return NBD_ENOSPC // our DiskFullError, or ENOSPC/EDQUOT itself
  return NBD_EIO
}

/**
 * Serves requests until DISC or end of stream (docs/formats/nbd.md, "Transmission"): up to
 * `concurrency` at once, replies in completion order matched by handle; writes run in order,
 * and FLUSH waits for the writes received before it.
 */
export async function transmit (init: TransmissionInit): Promise<void> {
  const { socket, reader, device } = init
  const running = new Set<Promise<void>>()
  let inFlightBytes = 0
  let writes: Promise<unknown> = Promise.resolve()
  const writable = device.write !== undefined

  const reply = (handle: Buffer, error: number, data?: Uint8Array): void => {
    if (socket.destroyed) return
    const h = Buffer.alloc(REPLY_HEADER_BYTES)
    h.writeUInt32BE(SIMPLE_REPLY_MAGIC, 0)
    h.writeUInt32BE(error, 4)
    handle.copy(h, 8)
    // two writes in one tick: nothing else is written between a header and its data
    socket.write(h)
    if (error === 0 && data !== undefined && data.byteLength > 0) socket.write(data)
  }

  const run = async (type: number, flags: number, handle: Buffer, offset: number, length: number, payload: Buffer | undefined): Promise<void> => {
    const started = performance.now()
    let error = 0
    let data: Uint8Array | undefined
    try {
      if (type === CMD_READ) {
        if (length > MAX_REQUEST_BYTES || offset + length > device.size) error = NBD_EINVAL
        else {
          data = await device.read(offset, length, init.signal)
          if (data.byteLength !== length) throw new DeviceError(`device returned ${data.byteLength} bytes for a ${length}-byte read`)
        }
      } else if (type === CMD_WRITE) {
        if (!writable) error = NBD_EPERM
        else if (offset + length > device.size) error = NBD_ENOSPC
        else {
          const w = writes.then(async () => {
            await device.write?.(offset, payload as Buffer)
            if ((flags & CMD_FLAG_FUA) !== 0) await device.flush?.()
          })
          writes = w.catch(() => {})
          await w
        }
      } else if (type === CMD_FLUSH) {
        const w = writes.then(async () => { await device.flush?.() })
        writes = w.catch(() => {})
        await w
      } else if (type === CMD_TRIM) {
        if (!writable || device.trim === undefined) error = writable ? NBD_EINVAL : NBD_EPERM
        else if (offset + length > device.size) error = NBD_EINVAL
        else {
          const w = writes.then(async () => { await device.trim?.(offset, length) })
          writes = w.catch(() => {})
          await w
        }
      } else {
        error = NBD_EINVAL
      }
    } catch (err) {
      error = init.signal.aborted ? NBD_ESHUTDOWN : errnoOf(err)
      init.onRequest?.({ type: 'error', command: type, offset, length, error, message: (err as Error).message, ms: performance.now() - started })
    }
    reply(handle, error, data)
    if (error === 0) init.onRequest?.({ type: 'done', command: type, offset, length, error, ms: performance.now() - started })
  }

  try {
    while (!socket.destroyed) {
      while (running.size >= init.concurrency) await Promise.race(running)
      const header = await reader.read(REQUEST_HEADER_BYTES)
      if (header === undefined) break
      if (header.readUInt32BE(0) !== REQUEST_MAGIC) throw new NbdProtocolError('request without the request magic')
      const flags = header.readUInt16BE(4)
      const type = header.readUInt16BE(6)
      const handle = Buffer.from(header.subarray(8, 16))
      const offset = Number(header.readBigUInt64BE(16))
      const length = header.readUInt32BE(24)
      let payload: Buffer | undefined
      if (type === CMD_WRITE) {
        // the payload must be consumed to stay in step; one larger than advertised ends the connection
        if (length > MAX_REQUEST_BYTES) throw new NbdProtocolError(`write of ${length} bytes (at most ${MAX_REQUEST_BYTES})`)
        payload = Buffer.from(await reader.readExactly(length))
      }
      if (type === CMD_DISC) break
      if ((flags & ~CMD_FLAG_FUA) !== 0) { reply(handle, NBD_ENOTSUP); continue }
      if (!Number.isSafeInteger(offset)) { reply(handle, NBD_EINVAL); continue }
      const bytes = type === CMD_READ || type === CMD_WRITE ? Math.min(length, MAX_REQUEST_BYTES) : 0
      while (inFlightBytes > 0 && inFlightBytes + bytes > MAX_IN_FLIGHT_BYTES) await Promise.race(running)
      inFlightBytes += bytes
      const p = run(type, flags, handle, offset, length, payload).finally(() => { running.delete(p); inFlightBytes -= bytes })
      running.add(p)
      if (socket.writableNeedDrain) await new Promise(resolve => { socket.once('drain', resolve); socket.once('close', resolve) })
    }
  } finally {
    await Promise.allSettled([...running])
  }
}
