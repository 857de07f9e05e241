/**
 * A 1 GiB pull between two real `cachepoint daemon` processes on loopback,
 * beside the bare libp2p stream between two processes measured in the same
 * run (bench/src/transport.ts, with the daemons' default encrypter): the
 * ceiling a block protocol can approach. Figures: MB/s (goal >= 0.8 of the
 * bare stream) and CPU seconds per GiB of both daemons, read from
 * /proc/PID/stat around the pull (goal <= 1.5 of the bare stream's two
 * processes).
 *
 * The image is half random, half text-like (words drawn from a small
 * vocabulary), in alternating 1 MiB runs, no zero block and no block twice:
 * every block crosses the wire, and compression in the block exchange shows
 * on the text half only.
 *
 * BENCH_PROFILE_DIR=dir: both daemons run under `node --cpu-prof` for the
 * pull (the source daemon is restarted after the import so its profiles hold
 * the pull only), into dir/source and dir/puller, one profile per thread
 * (main thread and codec threads); summarize with bench/dist/src/profile-summary.js.
 *
 * BENCH_STRACE=dir: `strace -c` counts both daemons' syscalls (every thread)
 * during the pull, into dir/source.txt and dir/puller.txt: a figure that other
 * jobs on the machine do not disturb (the timings then mean nothing).
 *
 * BENCH_NODE_ARGS="--flag ...": more node options for both daemons (e.g. V8's
 * heap sizes), to measure them before a change to the daemon's own start. They
 * come after the daemon's own (DAEMON_NODE_ARGS), and a later V8 flag wins:
 * `--max-semi-space-size=16` measures V8's default semi-space again.
 *
 * BENCH_RESTART_SOURCE=1: the source daemon is restarted after its import and
 * recompression, before the pull (the default under BENCH_PROFILE_DIR; =0
 * there profiles the source from its start, import and recompression too).
 * A source that has just imported and recompressed served the pull at
 * 3.6-6.6 CPU s/GiB in 11 of 14 runs on 2026-12-04, a restarted one at 2.6-2.9:
 * V8 started incremental marking every 80-100 ms of the pull ("Start (task)",
 * a 31 MB old generation against a 56 MB limit), 37 mark-compacts against 12.
 *
 * The source's recompression at rest (config "restLevel") is waited for
 * before the pull, so the pull does not share the cores with it and serves
 * the stored forms a publisher's peers get once it is done.
 *
 * Run: node bench/dist/src/pull-procs.js (BENCH_PULL_MIB=256 for less)
 */
import '@cachecloud/core/polyfill'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createWriteStream } from 'node:fs'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateRawSync } from 'node:zlib'
import { seededBytes } from '@cachecloud/fixtures'
import { DEFAULT_ENCRYPTERS } from '@cachecloud/network'
import { initLoopbackNode, launchCachePoint, type LaunchedCachePoint } from 'cachepoint/launcher'
import { measurePair } from './transport.js'
import { recompressed } from './recompressed.js'
import type { BenchResult } from './types.js'

const MiB = 1024 * 1024
const TOTAL = Number(process.env.BENCH_PULL_MIB ?? 1024) * MiB
const RUN = MiB
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR
const STRACE_DIR = process.env.BENCH_STRACE
const NODE_ARGS = (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(a => a !== '')
const CLOCK_TICKS_PER_S = 100

const VOCABULARY = ('the of and to in is for on with as by at from that this be are was it or an which system file image disk block kernel ' +
  'update package service network config user root boot device driver module library version release security patch log ' +
  'server client cache node peer manifest storage volume partition mount path directory memory process thread signal ' +
  'error warning info debug start stop enable disable default option value setting install remove upgrade build').split(' ').map(w => Buffer.from(w))

/** `length` bytes of words picked by a seeded keystream, about one line break in ten words: text that compresses like text. */
function textRun (seed: string, length: number): Buffer {
  const out = Buffer.allocUnsafe(length)
  const picks = seededBytes(seed, length)
  let at = 0
  for (let i = 0; at < length; i++) {
    const word = VOCABULARY[picks[i] % VOCABULARY.length]
    at += word.copy(out, at)
    if (at < length) out[at++] = picks[i] < 26 ? 0x0a : 0x20
  }
  return out
}

/** Writes the mixed image; returns the text half's compression ratio (raw deflate level 1 of one run, an indication only). */
async function writeMixedImage (path: string): Promise<number> {
  const file = createWriteStream(path)
  for (let off = 0, i = 0; off < TOTAL; off += RUN, i++) {
    const run = i % 2 === 0 ? seededBytes(`pull-procs-random-${i}`, RUN) : textRun(`pull-procs-text-${i}`, RUN)
    if (!file.write(run)) await once(file, 'drain')
  }
  file.end()
  await once(file, 'finish')
  const sample = textRun('pull-procs-sample', RUN)
  return sample.byteLength / deflateRawSync(sample, { level: 1 }).byteLength
}

interface Cpu { user: number, system: number, minorFaults: number }

/** utime and stime of a process, in seconds. */
async function cpuSeconds (pid: number): Promise<Cpu> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return { user: Number(fields[11]) / CLOCK_TICKS_PER_S, system: Number(fields[12]) / CLOCK_TICKS_PER_S, minorFaults: Number(fields[7]) }
}

const total = (c: Cpu): number => c.user + c.system

/** Launches a daemon, under `--cpu-prof` into PROFILE_DIR/profileName when asked. */
async function launch (dataDir: string, profileName?: string): Promise<LaunchedCachePoint> {
  const nodeArgs = PROFILE_DIR !== undefined && profileName !== undefined
    // no --cpu-prof-name: every thread (the codec threads too) writes its own profile, Node's default name, into the daemon's directory
    ? [...NODE_ARGS, '--cpu-prof', `--cpu-prof-dir=${join(PROFILE_DIR, profileName)}`]
    : NODE_ARGS
  return await launchCachePoint({ dataDir, logLevel: 'warn', nodeArgs })
}

/** Attaches `strace -c` to every thread of `pid`; stop it (SIGINT) for its summary in `out`. */
async function straceOf (pid: number, out: string): Promise<ChildProcess> {
  const threads = await readdir(`/proc/${pid}/task`)
  const child = spawn('strace', ['-c', '-f', '-o', out, ...threads.flatMap(t => ['-p', t])], { stdio: 'ignore' })
  await new Promise(resolve => setTimeout(resolve, 500))
  return child
}

export async function run (): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-pull-procs-'))
  const nodes: LaunchedCachePoint[] = []
  try {
    const image = join(dir, 'mixed.raw')
    const textRatio = await writeMixedImage(image)
    const a = await initLoopbackNode(join(dir, 'a'))
    await initLoopbackNode(join(dir, 'b'), { trustedPublishers: [a.publisherKey] })
    // BENCH_RESTART_SOURCE=0 with BENCH_PROFILE_DIR: the source is profiled from its start (import and recompression too)
    const restart = process.env.BENCH_RESTART_SOURCE === undefined ? PROFILE_DIR !== undefined : process.env.BENCH_RESTART_SOURCE === '1'
    let source = await launch(join(dir, 'a'), restart ? undefined : 'source')
    nodes.push(source)
    const storedBefore = (await source.client.status()).store.storedBytes
    await source.client.importImage({ file: image, name: 'mixed', version: 'v1' }, () => {})
    await rm(image)
    // The pull is measured against the publisher's steady state: its recompression at rest done, not competing for the cores.
    const rest = await recompressed(source.client, 'mixed@v1', storedBefore)
    if (restart) {
      await source.stop()
      source = await launch(join(dir, 'a'), 'source')
      nodes.push(source)
    }
    const puller = await launch(join(dir, 'b'), 'puller')
    nodes.push(puller)

    const pids = [source.process.pid, puller.process.pid] as number[]
    const tracers = STRACE_DIR === undefined ? [] : await Promise.all(pids.map(async (pid, i) => await straceOf(pid, join(STRACE_DIR, `${i === 0 ? 'source' : 'puller'}.txt`))))
    const load = loadavg()[0]
    const cpu0 = await Promise.all(pids.map(cpuSeconds))
    const t0 = performance.now()
    const pulled = await puller.client.pull({ ref: 'mixed@v1', from: [source.address] }, () => {})
    const ms = performance.now() - t0
    const cpu1 = await Promise.all(pids.map(cpuSeconds))
    for (const t of tracers) t.kill('SIGINT')
    await Promise.all(tracers.map(async t => await once(t, 'exit')))
    if (pulled.fetchedBytes !== TOTAL) throw new Error(`pulled ${pulled.fetchedBytes} bytes, expected ${TOTAL}`)
    await Promise.all(nodes.map(async n => { await n.stop() }))

    const kind = DEFAULT_ENCRYPTERS[0]
    const bare = await measurePair(kind, TOTAL)
    const GiB = TOTAL / 2 ** 30
    const MBps = TOTAL / 1e6 / (ms / 1000)
    const [sourceCpu, pullerCpu] = [(total(cpu1[0]) - total(cpu0[0])) / GiB, (total(cpu1[1]) - total(cpu0[1])) / GiB]
    const sys = (i: number): string => ((cpu1[i].system - cpu0[i].system) / GiB).toFixed(2)
    const faults = (i: number): string => `${Math.round((cpu1[i].minorFaults - cpu0[i].minorFaults) / GiB / 1000)}k page faults`
    const bareCpu = bare.senderCpuPerGiB + bare.receiverCpuPerGiB
    const size = `${Math.round(TOTAL / MiB)} MiB`
    const profiled = PROFILE_DIR === undefined ? '' : ' (both daemons under --cpu-prof)'
    const mix = `content: 50% random, 50% text (words, deflate-1 ratio ${textRatio.toFixed(2)}) in alternating 1 MiB runs, no zero block`
    return [
      {
        name: `daemon pull, 2 procs, vs bare libp2p stream (${size})`,
        value: MBps,
        unit: 'MB/s',
        baselineName: `bare ${kind} stream, 2 procs`,
        baseline: bare.MBps,
        ratio: MBps / bare.MBps,
        goal: '>= 0.80',
        met: MBps / bare.MBps >= 0.8,
        note: `${mix}; wire ${(pulled.wireBytes / 1e6).toFixed(0)} MB for ${(pulled.fetchedBytes / 1e6).toFixed(0)} MB of blocks (${(pulled.wireBytes / pulled.fetchedBytes).toFixed(3)}); daemon's own duration ${Math.round(pulled.durationMs)} ms; source recompressed at level ${rest.level} first (${(rest.ms / 1000).toFixed(1)} s)${profiled}`
      },
      {
        name: `daemon pull CPU, both daemons (${size})`,
        value: sourceCpu + pullerCpu,
        unit: 'CPU s/GiB',
        baselineName: `bare ${kind} stream, both procs`,
        baseline: bareCpu,
        ratio: (sourceCpu + pullerCpu) / bareCpu,
        goal: '<= 1.5',
        met: (sourceCpu + pullerCpu) / bareCpu <= 1.5,
        note: `source ${sourceCpu.toFixed(2)} (system ${sys(0)}, ${faults(0)}) + puller ${pullerCpu.toFixed(2)} (system ${sys(1)}, ${faults(1)}) per GiB; load ${load.toFixed(2)} before the pull; bare stream sender ${bare.senderCpuPerGiB.toFixed(2)} + receiver ${bare.receiverCpuPerGiB.toFixed(2)}${profiled}`
      }
    ]
  } finally {
    await Promise.all(nodes.map(async (n) => n.stop()))
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) process.stdout.write(JSON.stringify(r) + '\n')
}
