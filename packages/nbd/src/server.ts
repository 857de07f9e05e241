import { rm } from 'node:fs/promises'
import { createServer, isIP, type Server, type Socket } from 'node:net'
import {
  DEFAULT_CONCURRENCY, DEFAULT_HANDSHAKE_TIMEOUT_MS, DEFAULT_MAX_CLIENTS, TFLAG_CAN_MULTI_CONN, TFLAG_HAS_FLAGS, TFLAG_READ_ONLY,
  TFLAG_SEND_FLUSH, TFLAG_SEND_FUA, TFLAG_SEND_TRIM
} from './constants.js'
import { AddressInUseError, InvalidAddressError } from './errors.js'
import { negotiate, sendGreeting, type HandshakeExport } from './handshake.js'
import type { NbdExport, NbdServer, NbdServerInit } from './index.js'
import { SocketReader } from './socket-reader.js'
import { transmit } from './transmission.js'
import { listenUnix } from './unix-socket.js'

function flagsOf (e: NbdExport): number {
  const writable = e.device.write !== undefined
  let flags = TFLAG_HAS_FLAGS | TFLAG_SEND_FLUSH | TFLAG_CAN_MULTI_CONN
  if (!writable) flags |= TFLAG_READ_ONLY
  else flags |= TFLAG_SEND_FUA | (e.device.trim !== undefined ? TFLAG_SEND_TRIM : 0)
  return flags
}

export class DefaultNbdServer implements NbdServer {
  private server: Server | undefined
  private readonly sockets = new Set<Socket>()
  private readonly stopping = new AbortController()
  private readonly exports: NbdExport[]
  private served = 0

  constructor (private readonly init: NbdServerInit) {
    this.exports = init.exports
    if (this.exports.length === 0) throw new InvalidAddressError('an NBD server needs at least one export')
  }

  get clients (): number { return this.sockets.size }
  get connectionsServed (): number { return this.served }

  private find (name: string): (HandshakeExport & { e: NbdExport }) | undefined {
    // the empty name (qemu's nbd://host:port) is the first export
    const e = name === '' ? this.exports[0] : this.exports.find(x => x.name === name)
    return e === undefined ? undefined : { name: e.name, description: e.description ?? '', size: e.device.size, flags: flagsOf(e), e }
  }

  private async serve (socket: Socket): Promise<void> {
    const log = this.init.logger
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`
    const reader = new SocketReader(socket)
    const closed = new AbortController()
    socket.once('close', () => { closed.abort(new Error('client disconnected')) })
    const signal = AbortSignal.any([closed.signal, this.stopping.signal])
    const timer = setTimeout(() => { socket.destroy() }, this.init.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS)
    try {
      sendGreeting(socket)
      const chosen = await negotiate(socket, reader, name => this.find(name), () => this.exports.map(e => ({ name: e.name, description: e.description ?? '', size: e.device.size, flags: flagsOf(e) })))
      clearTimeout(timer)
      if (chosen === undefined) return
      const { e } = chosen as HandshakeExport & { e: NbdExport }
      log?.info({ peer, export: e.name }, 'NBD client %s opened %s', peer, e.name)
      await transmit({
        socket,
        reader,
        device: e.device,
        exportName: e.name,
        concurrency: this.init.concurrency ?? DEFAULT_CONCURRENCY,
        signal,
        onRequest: this.init.onRequest
      })
      log?.info({ peer, export: e.name }, 'NBD client %s left', peer)
    } catch (err) {
      if (!signal.aborted) log?.warn({ peer, err }, 'NBD client %s dropped: %s', peer, (err as Error).message)
    } finally {
      clearTimeout(timer)
      await reader.close().catch(() => {})
      socket.end()
      socket.destroySoon()
    }
  }

  async start (): Promise<{ host: string, port: number, socketPath?: string }> {
    const socketPath = this.init.socketPath
    const host = this.init.host ?? '127.0.0.1'
    if (socketPath === undefined && isIP(host) === 0) throw new InvalidAddressError(`NBD listen host "${host}" is not an IP address`)
    const port = this.init.port ?? 0
    if (socketPath !== undefined && (this.init.host !== undefined || this.init.port !== undefined)) throw new InvalidAddressError('an NBD server listens on a Unix socket or on HOST:PORT, not both')
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidAddressError(`NBD port ${port} is not in 0-65535`)
    const server = createServer({ noDelay: true }, (socket) => {
      if (this.sockets.size >= (this.init.maxClients ?? DEFAULT_MAX_CLIENTS)) { socket.destroy(); return }
      this.sockets.add(socket)
      this.served++
      socket.on('error', () => {})
      socket.once('close', () => { this.sockets.delete(socket) })
      void this.serve(socket)
    })
    if (socketPath !== undefined) {
      try {
        await listenUnix(server, socketPath)
      } catch (err) {
        server.close()
        throw err
      }
      this.server = server
      return { host: '', port: 0, socketPath }
    }
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: Error & { code?: string }) => {
        if (err.code === 'EADDRINUSE') reject(new AddressInUseError(`${host}:${port} is already in use (choose another --nbd port)`, { cause: err }))
        else if (err.code === 'EADDRNOTAVAIL') reject(new InvalidAddressError(`${host} is not an address of this machine`))
        else reject(err)
      })
      server.listen(port, host, () => { resolve() })
    })
    this.server = server
    const address = server.address() as { address: string, port: number }
    return { host: address.address, port: address.port }
  }

  async stop (): Promise<void> {
    const server = this.server
    if (server === undefined) return
    this.server = undefined
    this.stopping.abort(new Error('NBD server stopped'))
    for (const socket of this.sockets) socket.destroy()
    await new Promise<void>(resolve => { server.close(() => { resolve() }) })
    if (this.init.socketPath !== undefined) await rm(this.init.socketPath, { force: true })
  }
}
