/**
 * The transport ceiling, sender and receiver in two processes on loopback,
 * 1 GiB in 256 KiB writes, four ways in one run: raw node:net TCP, node:tls
 * (TLS 1.3 on the socket itself, no libp2p: what the cipher alone costs), a
 * bare libp2p stream over TCP + Noise + yamux, and over TCP + TLS 1.3
 * (@libp2p/tls, Node's OpenSSL through a JavaScript stream) + yamux. Figures: MB/s and the CPU seconds
 * per GiB of each process, each beside raw TCP. The libp2p stack is
 * createNetwork's (identify and gossipsub running), only the encrypter
 * differs. Each is measured BENCH_TRANSPORT_ROUNDS times (default 2), the
 * rounds alternating, and the best round is reported.
 *
 * Run: node bench/dist/src/transport.js (BENCH_TRANSPORT_MIB=256 for less)
 */
import '@cachecloud/core/polyfill'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { DEFAULT_ENCRYPTERS } from '@cachecloud/network'
import type { BenchResult } from './types.js'

const MiB = 1024 * 1024
const TOTAL = Number(process.env.BENCH_TRANSPORT_MIB ?? 1024) * MiB
const ROUNDS = Number(process.env.BENCH_TRANSPORT_ROUNDS ?? 2)
const CHILD = fileURLToPath(new URL('./transport-child.js', import.meta.url))

export type TransportKind = 'tcp' | 'node-tls' | 'noise' | 'tls'

/** One two-process transfer: wall-clock MB/s (sender's clock, first write to the receiver's answer) and CPU s/GiB per process. */
export interface PairMeasured { kind: TransportKind, bytes: number, MBps: number, senderCpuPerGiB: number, receiverCpuPerGiB: number }

/** The JSON lines a child prints, in order; rejects (with its stderr) once it has exited and printed no more. */
function childLines (child: ChildProcess): () => Promise<Record<string, unknown>> {
  const queue: Array<Record<string, unknown>> = []
  const waiting: Array<{ resolve: (v: Record<string, unknown>) => void, reject: (e: Error) => void }> = []
  let stderr = ''
  let failed: Error | undefined
  child.stderr?.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000) })
  createInterface({ input: child.stdout! }).on('line', line => {
    const value = JSON.parse(line) as Record<string, unknown>
    const w = waiting.shift()
    if (w !== undefined) w.resolve(value); else queue.push(value)
  })
  // 'close', not 'exit': the last lines may still be in the pipe when the process has exited
  child.on('close', (code, signal) => {
    failed = code === 0 ? new Error('transport child exited before reporting') : new Error(`transport child exited with code ${String(code ?? signal)}: ${stderr.trim()}`)
    for (const w of waiting.splice(0)) w.reject(failed)
  })
  return async () => {
    const next = queue.shift()
    if (next !== undefined) return next
    if (failed !== undefined) throw failed
    return await new Promise((resolve, reject) => { waiting.push({ resolve, reject }) })
  }
}

const exited = async (child: ChildProcess): Promise<void> => {
  if (child.exitCode === null && child.signalCode === null) await new Promise(resolve => child.once('exit', resolve))
}

/** Moves `bytes` from one new process to another over `kind` and reports what each side measured. */
export async function measurePair (kind: TransportKind, bytes = TOTAL, tlsDir?: string): Promise<PairMeasured> {
  const env = { ...process.env, BENCH_TLS_DIR: tlsDir ?? '' }
  const receiver = spawn(process.execPath, [CHILD, 'receive', kind, String(bytes)], { stdio: ['ignore', 'pipe', 'pipe'], env })
  let sender: ChildProcess | undefined
  try {
    const fromReceiver = childLines(receiver)
    const { address } = await fromReceiver() as { address: string }
    sender = spawn(process.execPath, [CHILD, 'send', kind, String(bytes), address], { stdio: ['ignore', 'pipe', 'pipe'], env })
    const fromSender = childLines(sender)
    const sent = await fromSender() as { ms: number, cpuS: number }
    const received = await fromReceiver() as { cpuS: number, received: number }
    await Promise.all([exited(receiver), exited(sender)])
    const GiB = bytes / 2 ** 30
    return { kind, bytes, MBps: bytes / 1e6 / (sent.ms / 1000), senderCpuPerGiB: sent.cpuS / GiB, receiverCpuPerGiB: received.cpuS / GiB }
  } finally {
    receiver.kill('SIGKILL')
    sender?.kill('SIGKILL')
  }
}

const LABELS: Record<TransportKind, string> = { tcp: 'raw TCP', 'node-tls': 'node:tls TLS 1.3 on the socket', noise: 'libp2p TCP+Noise+yamux', tls: 'libp2p TCP+TLS 1.3+yamux' }

/** A self-signed P-256 certificate for localhost (cert.pem, key.pem) in `dir`, for the node:tls pair. */
async function selfSignedCertificate (dir: string): Promise<void> {
  await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')])
}

/** The best of several rounds: the highest rate and the lowest CPU (other jobs on the machine only ever slow a round down). */
interface Best { kind: TransportKind, MBps: number, senderCpuPerGiB: number, receiverCpuPerGiB: number, rounds: PairMeasured[] }

function best (rounds: PairMeasured[]): Best {
  const cpu = (m: PairMeasured): number => m.senderCpuPerGiB + m.receiverCpuPerGiB
  const leanest = rounds.reduce((a, b) => cpu(b) < cpu(a) ? b : a)
  return {
    kind: rounds[0].kind,
    MBps: Math.max(...rounds.map(m => m.MBps)),
    senderCpuPerGiB: leanest.senderCpuPerGiB,
    receiverCpuPerGiB: leanest.receiverCpuPerGiB,
    rounds
  }
}

export async function run (): Promise<BenchResult[]> {
  const measured: Record<TransportKind, PairMeasured[]> = { tcp: [], 'node-tls': [], noise: [], tls: [] }
  const tlsDir = await mkdtemp(join(tmpdir(), 'cc-bench-tls-'))
  try {
    await selfSignedCertificate(tlsDir)
    // rounds alternate the four, so a burst of load elsewhere hits all of them alike
    for (let round = 0; round < ROUNDS; round++) {
      for (const kind of ['tcp', 'node-tls', 'noise', 'tls'] as const) measured[kind].push(await measurePair(kind, TOTAL, tlsDir))
    }
  } finally {
    await rm(tlsDir, { recursive: true, force: true })
  }
  const [raw, nodeTls, noise, tls] = [best(measured.tcp), best(measured['node-tls']), best(measured.noise), best(measured.tls)]
  const size = `${Math.round(TOTAL / MiB)} MiB, 2 procs, best of ${ROUNDS}`
  const cpu = (m: Best): number => m.senderCpuPerGiB + m.receiverCpuPerGiB
  const cpuNote = (m: Best): string => `sender ${m.senderCpuPerGiB.toFixed(2)} + receiver ${m.receiverCpuPerGiB.toFixed(2)} CPU s/GiB; rounds ${m.rounds.map(r => r.MBps.toFixed(0)).join(', ')} MB/s`
  const rows: BenchResult[] = [{ name: `transport: ${LABELS.tcp} (${size})`, value: raw.MBps, unit: 'MB/s', note: cpuNote(raw) }]
  for (const m of [nodeTls, noise, tls]) {
    rows.push({ name: `transport: ${LABELS[m.kind]} (${size})`, value: m.MBps, unit: 'MB/s', baselineName: 'raw TCP', baseline: raw.MBps, ratio: m.MBps / raw.MBps, note: cpuNote(m) })
    rows.push({ name: `transport: ${LABELS[m.kind]} CPU, both processes`, value: cpu(m), unit: 'CPU s/GiB', baselineName: 'raw TCP', baseline: cpu(raw), ratio: cpu(m) / cpu(raw) })
  }
  const faster = tls.MBps >= noise.MBps ? 'tls' : 'noise'
  rows.push({ name: 'transport: TLS vs Noise throughput', value: tls.MBps, unit: 'MB/s', baselineName: 'Noise', baseline: noise.MBps, ratio: tls.MBps / noise.MBps, note: `${faster === DEFAULT_ENCRYPTERS[0] ? 'agrees with' : 'DISAGREES with'} DEFAULT_ENCRYPTERS (${DEFAULT_ENCRYPTERS.join(', ')}) in packages/network/src/constants.ts` })
  rows.push({ name: 'transport: libp2p TLS vs node:tls on the socket', value: tls.MBps, unit: 'MB/s', baselineName: 'node:tls', baseline: nodeTls.MBps, ratio: tls.MBps / nodeTls.MBps, note: `the same cipher; the rest is @libp2p/tls's JavaScript stream bridge, yamux and libp2p streams (${cpu(tls).toFixed(2)} vs ${cpu(nodeTls).toFixed(2)} CPU s/GiB)` })
  rows.push({ name: 'transport: TLS vs Noise CPU, both processes', value: cpu(tls), unit: 'CPU s/GiB', baselineName: 'Noise', baseline: cpu(noise), ratio: cpu(tls) / cpu(noise) })
  return rows
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) process.stdout.write(JSON.stringify(r) + '\n')
}
