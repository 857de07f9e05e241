/**
 * Transfer throughput on loopback, one process, the same ~1 GiB three ways:
 * a raw node:net TCP socket, a bare libp2p stream (the createNetwork stack:
 * TCP + Noise + yamux, just pushing bytes: the ceiling of any libp2p
 * protocol), and a CacheCloud pull of a 1 GiB image between two nodes with
 * real block stores in temp dirs (catalog, manifest, pipelined verified
 * blocks, fsync'd commits).
 *
 * Run: node bench/dist/src/transfer.js
 */
import '@cachecloud/core/polyfill'
import { randomFillSync } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { createServer, connect, type AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { cidOf } from '@cachecloud/core'
import { IMAGE_MANIFEST_FORMAT } from '@cachecloud/manifest'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createCatalog, DEFAULT_BLOCK_SIZE, type Catalog } from '@cachecloud/image'
import { createTrustStore, formatPublicKey, generatePublisherKey, signManifest } from '@cachecloud/manifest'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { createTransfer, type Transfer } from '@cachecloud/transfer'
import type { BenchResult } from './types.js'

const MiB = 1024 * 1024
const TOTAL = Number(process.env.BENCH_TRANSFER_MIB ?? 1024) * MiB
const CHUNK = MiB
const MBps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000)

/** Wall-clock MB/s and process CPU seconds per GiB (robust when other jobs share the cores). */
interface Measured { MBps: number, cpuPerGiB: number }

function meter (): () => { ms: number, cpuS: number } {
  const t0 = performance.now()
  const c0 = process.cpuUsage()
  return () => {
    const c = process.cpuUsage(c0)
    return { ms: performance.now() - t0, cpuS: (c.user + c.system) / 1e6 }
  }
}

const measured = (bytes: number, m: { ms: number, cpuS: number }): Measured => ({ MBps: MBps(bytes, m.ms), cpuPerGiB: m.cpuS / (bytes / 2 ** 30) })

async function rawTcp (): Promise<Measured> {
  const chunk = randomFillSync(new Uint8Array(CHUNK))
  let received = 0
  let done!: () => void
  const finished = new Promise<void>(resolve => { done = resolve })
  const server = createServer(socket => {
    socket.on('data', (data: Buffer) => { received += data.byteLength; if (received >= TOTAL) done() })
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const socket = connect((server.address() as AddressInfo).port, '127.0.0.1')
  await new Promise(resolve => socket.once('connect', resolve))
  const stop = meter()
  for (let sent = 0; sent < TOTAL; sent += CHUNK) {
    if (!socket.write(chunk)) await new Promise(resolve => socket.once('drain', resolve))
  }
  await finished
  const m = stop()
  socket.destroy()
  server.close()
  return measured(TOTAL, m)
}

async function node (): Promise<CachePointLibp2p> {
  return createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
}

async function bareLibp2p (): Promise<Measured> {
  const [a, b] = await Promise.all([node(), node()])
  try {
    let done!: () => void
    const finished = new Promise<void>(resolve => { done = resolve })
    await b.handle('/bench/push/1.0.0', async stream => {
      let received = 0
      for await (const data of stream) {
        received += data.byteLength
        if (received >= TOTAL) done()
      }
    })
    const stream = await a.dialProtocol(b.getMultiaddrs()[0], '/bench/push/1.0.0')
    const chunk = randomFillSync(new Uint8Array(CHUNK))
    const stop = meter()
    for (let sent = 0; sent < TOTAL; sent += CHUNK) {
      if (!stream.send(chunk)) await stream.onDrain()
    }
    await finished
    const m = stop()
    await stream.close()
    return measured(TOTAL, m)
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

interface PullNode { libp2p: CachePointLibp2p, blockstore: Blockstore, catalog: Catalog, transfer: Transfer }

async function pullNode (dir: string, trusted: string): Promise<PullNode> {
  const blockstore = createBlockstore({ path: join(dir, 'blocks') })
  await blockstore.start()
  const catalog = createCatalog({ path: join(dir, 'catalog'), blockstore })
  await catalog.start()
  const libp2p = await node()
  const transfer = createTransfer({ libp2p, blockstore, catalog, trust: createTrustStore([trusted]) })
  await transfer.start()
  return { libp2p, blockstore, catalog, transfer }
}

async function stopNode (n: PullNode): Promise<void> {
  await n.transfer.stop()
  await n.libp2p.stop()
  await n.catalog.stop()
  await n.blockstore.stop()
}

async function cachecloudPull (): Promise<Measured & { wireOverhead: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-transfer-'))
  const key = generatePublisherKey()
  const trusted = formatPublicKey(key.publicKey)
  const a = await pullNode(join(dir, 'a'), trusted)
  const b = await pullNode(join(dir, 'b'), trusted)
  try {
    const blockSize = DEFAULT_BLOCK_SIZE
    const count = Math.ceil(TOTAL / blockSize)
    const blocks = []
    const puts: Array<Promise<boolean>> = []
    for (let i = 0; i < count; i++) {
      const bytes = randomFillSync(new Uint8Array(blockSize))
      const cid = cidOf(bytes)
      puts.push(a.blockstore.put(cid, bytes))
      blocks.push(cid)
      if (puts.length >= 16) await Promise.all(puts.splice(0))
    }
    await Promise.all(puts)
    await a.blockstore.sync()
    const manifest = signManifest({
      format: IMAGE_MANIFEST_FORMAT, name: 'bench', version: 'v1', parent: null, size: count * blockSize, blockSize,
      blocks, createdAt: new Date().toISOString(), publisher: key.publicKey
    }, key)
    await a.catalog.add(manifest, 'complete')
    const stop = meter()
    const result = await b.transfer.pull({ ref: { name: 'bench', version: 'v1' }, peers: [a.libp2p.getMultiaddrs()[0]] })
    const m = stop()
    if (result.fetchedBytes !== count * blockSize) throw new Error(`pulled ${result.fetchedBytes} bytes, expected ${count * blockSize}`)
    return { ...measured(result.fetchedBytes, m), wireOverhead: result.wireBytes / result.fetchedBytes - 1 }
  } finally {
    await Promise.all([stopNode(a), stopNode(b)])
    await rm(dir, { recursive: true, force: true })
  }
}

export async function run (): Promise<BenchResult[]> {
  const raw = await rawTcp()
  const bare = await bareLibp2p()
  const pulled = await cachecloudPull()
  const size = `${Math.round(TOTAL / MiB)} MiB`
  const cpu = (m: Measured): string => `${m.cpuPerGiB.toFixed(2)} CPU s/GiB`
  return [
    { name: `raw TCP loopback (${size})`, value: raw.MBps, unit: 'MB/s', note: cpu(raw) },
    { name: `bare libp2p stream (${size})`, value: bare.MBps, unit: 'MB/s', baselineName: 'raw TCP', baseline: raw.MBps, ratio: bare.MBps / raw.MBps, note: `TCP + Noise + yamux ceiling, ${cpu(bare)}` },
    { name: `CacheCloud pull vs bare libp2p (${size})`, value: pulled.MBps, unit: 'MB/s', baselineName: 'bare libp2p stream', baseline: bare.MBps, ratio: pulled.MBps / bare.MBps, goal: '>= 0.50', met: pulled.MBps / bare.MBps >= 0.5, note: `${cpu(pulled)}, wire overhead ${(pulled.wireOverhead * 100).toFixed(3)}%; both nodes in one process: adds SHA-256 on read and on write, file I/O and fsync` },
    { name: `CacheCloud pull vs raw TCP (${size})`, value: pulled.MBps, unit: 'MB/s', baselineName: 'raw TCP', baseline: raw.MBps, ratio: pulled.MBps / raw.MBps }
  ]
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  for (const r of await run()) {
    const ratio = r.ratio === undefined ? '' : `  ${r.ratio.toFixed(2)}x ${r.baselineName ?? ''}${r.goal === undefined ? '' : ` (goal ${r.goal}: ${r.met === true ? 'met' : 'not met'})`}`
    process.stdout.write(`${r.name.padEnd(46)} ${r.value.toFixed(0).padStart(6)} ${r.unit}${ratio}${r.note === undefined ? '' : `  [${r.note}]`}\n`)
  }
}
