/** A real daemon in this process, on 127.0.0.1 with OS-chosen ports, and its real control client. */
import '@cachecloud/core/polyfill'
import { createControlClient, loadOrCreateToken, type ControlClient } from '@cachecloud/control'
import type { TempDirs } from '@cachecloud/test-utils'
import { pino } from 'pino'
import { createDaemon, initDataDir, type CachePointDaemon, type InitOptions } from '../src/index.js'

export interface TestNode {
  daemon: CachePointDaemon
  client: ControlClient
  /** The control API's URL and bearer token, for raw HTTP. */
  url: string
  token: string
  dataDir: string
  /** A libp2p address with /p2p/, for pulls from this node. */
  address: string
  publisherKey: string
}

export async function startNode (dirs: TempDirs, options: InitOptions = {}): Promise<TestNode> {
  const dataDir = await dirs.make('daemon-test-')
  const { config, publisherKey } = await initDataDir(dataDir, { listen: ['/ip4/127.0.0.1/tcp/0'], ...options })
  const daemon = createDaemon({ config, logger: pino({ level: 'silent' }) })
  const { controlUrl, addresses } = await daemon.start()
  const token = await loadOrCreateToken(dataDir)
  return {
    daemon,
    client: createControlClient({ url: controlUrl, token, pid: process.pid }),
    url: controlUrl,
    token,
    dataDir,
    address: addresses[0],
    publisherKey
  }
}

/** POSTs (or GETs, without a body) to the control API; the status and the parsed answer. */
export async function request (node: TestNode, method: 'GET' | 'POST', path: string, body?: string): Promise<{ status: number, json: unknown }> {
  const res = await fetch(`${node.url}/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${node.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body
  })
  const text = await res.text()
  return { status: res.status, json: text.includes('\n{') ? text.trim().split('\n').map(l => JSON.parse(l) as unknown) : JSON.parse(text) as unknown }
}

/** The code an API call was refused with. */
export async function codeOf (call: Promise<unknown>): Promise<string | undefined> {
  return await call.then(() => undefined, (err: unknown) => (err as { code?: string }).code)
}
