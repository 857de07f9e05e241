import { timingSafeEqual } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { isIP } from 'node:net'
import { MAX_TOKEN_LENGTH, METRICS_PATH, MIN_TOKEN_LENGTH } from './constants.js'
import { MetricsAddressInUseError, MetricsConfigError, MetricsListenError } from './errors.js'
import type { MetricsServer, MetricsServerInit } from './index.js'

export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/** Serves GET /metrics; off loopback only with a bearer token (Prometheus' `authorization: { credentials_file }`). */
export class PrometheusServer implements MetricsServer {
  private server: Server | undefined
  private readonly token: Buffer | undefined

  constructor (private readonly init: MetricsServerInit) {
    const { host, token } = init
    if (isIP(host) === 0 && host !== 'localhost') throw new MetricsConfigError(`metrics listen host "${host.slice(0, 80)}" is not an IP address`)
    if (token !== undefined && (token.length < MIN_TOKEN_LENGTH || token.length > MAX_TOKEN_LENGTH || !/^[\x21-\x7e]+$/.test(token))) {
      throw new MetricsConfigError(`the metrics bearer token must be ${MIN_TOKEN_LENGTH} to ${MAX_TOKEN_LENGTH} printable characters without spaces`)
    }
    if (!isLoopback(host) && token === undefined) {
      throw new MetricsConfigError(`metrics on ${host} would be open to the network without authentication: set a bearer token file (metrics.tokenFile) or listen on 127.0.0.1`)
    }
    this.token = token === undefined ? undefined : Buffer.from(token)
  }

  private authorized (req: IncomingMessage): boolean {
    if (this.token === undefined) return true
    const header = req.headers.authorization
    if (typeof header !== 'string' || header.length > MAX_TOKEN_LENGTH + 7 || !header.startsWith('Bearer ')) return false
    const given = Buffer.from(header.slice(7))
    return given.length === this.token.length && timingSafeEqual(given, this.token)
  }

  private async handle (req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '').split('?')[0]
    if (!this.authorized(req)) {
      res.writeHead(401, { 'content-type': 'text/plain', 'www-authenticate': 'Bearer' }).end('unauthorized\n')
      return
    }
    if (path !== METRICS_PATH) { res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: the metrics are at /metrics\n'); return }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405, { allow: 'GET, HEAD' }).end(); return }
    const body = await this.init.metrics.text()
    res.writeHead(200, { 'content-type': this.init.metrics.contentType, 'cache-control': 'no-store' })
    res.end(req.method === 'HEAD' ? undefined : body)
  }

  async start (): Promise<{ url: string }> {
    const server = createServer((req, res) => {
      req.resume() // a body is not read, only drained
      this.handle(req, res).catch((err: unknown) => {
        this.init.onError?.(err)
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' })
        res.end('metrics collection failed\n')
      })
    })
    server.headersTimeout = 10_000
    server.requestTimeout = 30_000
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const where = `cannot serve metrics on ${this.init.host}:${this.init.port}`
        if (err.code === 'EADDRINUSE') reject(new MetricsAddressInUseError(`${where}: the address is in use`, { cause: err }))
        else reject(new MetricsListenError(`${where}: ${err.code === 'EADDRNOTAVAIL' ? 'not an address of this host' : err.message}`, { cause: err }))
      })
      server.listen(this.init.port, this.init.host, () => { resolve() })
    })
    this.server = server
    const address = server.address()
    const port = typeof address === 'object' && address !== null ? address.port : this.init.port
    const host = this.init.host.includes(':') ? `[${this.init.host}]` : this.init.host
    return { url: `http://${host}:${port}${METRICS_PATH}` }
  }

  async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>((resolve) => { server.close(() => { resolve() }) })
  }
}
