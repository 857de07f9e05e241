import { isIP } from 'node:net'
import { isAbsolute } from 'node:path'
import { isLoopback } from '@cachecloud/metrics'

/** Where the Prometheus endpoint listens (config "metrics"); absent: no endpoint. */
export interface MetricsConfig {
  metrics?: {
    /** As written in the config: HOST:PORT. */
    listen: string
    host: string
    port: number
    /** File holding the bearer token a scrape must send; required off loopback. */
    tokenFile?: string
  }
}

/** "HOST:PORT" (IPv6 as [ADDR]:PORT) to host and port, or undefined. */
export function parseHostPort (text: string): { host: string, port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([0-9.]+|localhost)):(\d{1,5})$/.exec(text)
  if (m === null) return undefined
  const host = m[1] ?? m[2]
  const port = Number(m[3])
  if (port > 65535 || (host !== 'localhost' && isIP(host) === 0)) return undefined
  return { host, port }
}

/** Checks "metrics": { "listen": "127.0.0.1:9464", "tokenFile": "/etc/cachepoint/metrics.token" }; one line naming the key on a problem. */
export function parseMetricsFields (d: { metrics?: { listen?: string, tokenFile?: string } }, reject: (why: string) => never): MetricsConfig {
  if (d.metrics === undefined) return {}
  const { listen, tokenFile } = d.metrics
  if (listen === undefined) reject('"metrics.listen" must be HOST:PORT, e.g. "127.0.0.1:9464"')
  const address = parseHostPort(listen)
  if (address === undefined) reject(`"metrics.listen" must be HOST:PORT with an IP address, e.g. "127.0.0.1:9464", got ${JSON.stringify(listen.slice(0, 80))}`)
  if (tokenFile !== undefined && !isAbsolute(tokenFile)) reject('"metrics.tokenFile" must be an absolute path')
  if (!isLoopback(address.host) && tokenFile === undefined) {
    reject(`"metrics.listen" ${listen} is reachable beyond this host: set "metrics.tokenFile" (a bearer token Prometheus sends) or listen on 127.0.0.1`)
  }
  return { metrics: { listen, ...address, ...(tokenFile === undefined ? {} : { tokenFile }) } }
}
