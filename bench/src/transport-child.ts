/**
 * One side of a two-process transport measurement (bench/src/transport.ts):
 *
 *   transport-child.js receive <tcp|node-tls|noise|tls> BYTES
 *   transport-child.js send <tcp|node-tls|noise|tls> BYTES ADDRESS
 *
 * The receiver prints `{"address": ...}` once it listens, then, when BYTES
 * have arrived, answers the sender with one byte and prints `{"cpuS": ...}`:
 * its CPU seconds from the first byte received to the last. The sender writes
 * BYTES in 256 KiB writes and prints `{"ms": ..., "cpuS": ...}` from its first
 * write to the receiver's answer. Setup (process start, handshakes) is outside
 * both figures. `node-tls` is node:tls on the TCP socket itself (no libp2p),
 * with the certificate and key in BENCH_TLS_DIR (cert.pem, key.pem).
 */
import '@cachecloud/core/polyfill'
import { readFileSync } from 'node:fs'
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net'
import { join } from 'node:path'
import * as tls from 'node:tls'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { seededBytes } from '@cachecloud/fixtures'
import { createNetwork, parseMultiaddr, type CachePointLibp2p } from '@cachecloud/network'

const WRITE_BYTES = 256 * 1024
const PUSH_PROTOCOL = '/cachecloud-bench/push/1.0.0'
type TransportKind = 'tcp' | 'node-tls' | 'noise' | 'tls'

const [role, kind, bytesArg, address] = process.argv.slice(2) as ['send' | 'receive', TransportKind, string, string | undefined]
const TOTAL = Number(bytesArg)

function print (line: object): void { process.stdout.write(JSON.stringify(line) + '\n') }

/** Done: exit once the event loop drains, or after a grace period if some handle lingers. */
function finish (): void { setTimeout(() => { process.exit(0) }, 5_000).unref() }

function cpuMeter (): () => number {
  const c0 = process.cpuUsage()
  return () => { const c = process.cpuUsage(c0); return (c.user + c.system) / 1e6 }
}

async function libp2pNode (): Promise<CachePointLibp2p> {
  return createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'], encrypters: [kind === 'tls' ? 'tls' : 'noise'] })
}

const tlsFile = (name: string): Buffer => readFileSync(join(process.env.BENCH_TLS_DIR ?? '.', name))

async function receiveTcp (): Promise<void> {
  const onSocket = (socket: Socket): void => {
    let received = 0
    let cpu: (() => number) | undefined
    socket.on('data', (data: Buffer) => {
      cpu ??= cpuMeter()
      received += data.byteLength
      if (received >= TOTAL) {
        const cpuS = cpu()
        socket.end(Buffer.of(1))
        print({ cpuS, received })
        server.close()
        finish()
      }
    })
  }
  const server: Server = kind === 'node-tls'
    ? tls.createServer({ key: tlsFile('key.pem'), cert: tlsFile('cert.pem'), minVersion: 'TLSv1.3' }, onSocket)
    : createServer(onSocket)
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  print({ address: String((server.address() as AddressInfo).port) })
}

async function sendTcp (port: number): Promise<void> {
  const socket = kind === 'node-tls'
    ? tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca: tlsFile('cert.pem'), minVersion: 'TLSv1.3' })
    : connect(port, '127.0.0.1')
  await new Promise(resolve => socket.once(kind === 'node-tls' ? 'secureConnect' : 'connect', resolve))
  const answered = new Promise(resolve => socket.once('data', resolve))
  const chunk = seededBytes('bench-transport', WRITE_BYTES)
  const t0 = performance.now()
  const cpu = cpuMeter()
  for (let sent = 0; sent < TOTAL; sent += WRITE_BYTES) {
    if (!socket.write(chunk)) await new Promise(resolve => socket.once('drain', resolve))
  }
  await answered
  print({ ms: performance.now() - t0, cpuS: cpu() })
  socket.destroy()
  finish()
}

async function receiveLibp2p (): Promise<void> {
  const node = await libp2pNode()
  await node.handle(PUSH_PROTOCOL, async (stream) => {
    let received = 0
    let cpu: (() => number) | undefined
    for await (const data of stream) {
      cpu ??= cpuMeter()
      received += data.byteLength
      if (received >= TOTAL) {
        const cpuS = cpu()
        stream.send(Uint8Array.of(1))
        await stream.close()
        print({ cpuS, received })
        await node.stop()
        finish()
        return
      }
    }
  })
  print({ address: node.getMultiaddrs()[0].toString() })
}

async function sendLibp2p (to: string): Promise<void> {
  const node = await libp2pNode()
  const stream = await node.dialProtocol(parseMultiaddr(to), PUSH_PROTOCOL)
  // the first byte back is the answer
  // eslint-disable-next-line no-unreachable-loop
  const answered = (async () => { for await (const _ of stream) return })()
  const chunk = seededBytes('bench-transport', WRITE_BYTES)
  const t0 = performance.now()
  const cpu = cpuMeter()
  for (let sent = 0; sent < TOTAL; sent += WRITE_BYTES) {
    if (!stream.send(chunk)) await stream.onDrain()
  }
  await answered
  print({ ms: performance.now() - t0, cpuS: cpu() })
  await node.stop()
  finish()
}

if (role === 'receive') {
  await (kind === 'tcp' || kind === 'node-tls' ? receiveTcp() : receiveLibp2p())
} else {
  if (address === undefined) throw new Error('send needs the receiver address')
  await (kind === 'tcp' || kind === 'node-tls' ? sendTcp(Number(address)) : sendLibp2p(address))
}
