/**
 * A pool of linked clones on one replica (issue 15), with a real daemon on loopback: N writable
 * exports (`image serve --pool N`) over one stored version. qemu-io writes a pattern in each clone,
 * then nbdcopy reads every clone whole at once (aggregate throughput against one client alone),
 * qemu-io times random 64 KiB reads (p95, all clients at once against one alone), and the disk
 * used (store + overlays, allocated bytes) is set against N full copies; daemon RSS at the end.
 * Sizes: BENCH_CLONES_N (default 20), BENCH_CLONES_MIB (image, default 128).
 */
import '@cachecloud/core/polyfill'
import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { findTool, seededBytes } from '@cachecloud/fixtures'
import { initLoopbackNode, launchCachePoint } from 'cachepoint/launcher'
import type { BenchResult } from './types.js'

const run$ = promisify(execFile)
const N = Number(process.env.BENCH_CLONES_N ?? 20)
const IMAGE_MIB = Number(process.env.BENCH_CLONES_MIB ?? 128)
const MiB = 1024 * 1024
const READS = 100

/** Allocated bytes under a directory (what `du` counts: sparse files by their blocks). */
async function allocated (dir: string): Promise<number> {
  let total = 0
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    total += e.isDirectory() ? await allocated(p) : (await stat(p)).blocks * 512
  }
  return total
}

/** Latencies in ms of READS random 64 KiB reads by one qemu-io (it prints each command's ops/sec). */
async function randomReads (uri: string, seed: number): Promise<number[]> {
  let x = seed
  const offsets = Array.from({ length: READS }, () => { x = (x * 1103515245 + 12345) % 2 ** 31; return (x % (IMAGE_MIB * 16)) * 64 * 1024 })
  const { stdout } = await run$('qemu-io', ['-f', 'raw', '-r', uri, ...offsets.flatMap(o => ['-c', `read ${o} 64k`])], { maxBuffer: 16 * MiB })
  return [...stdout.matchAll(/and ([\d.]+) ops\/sec/g)].map(m => 1000 / Number(m[1]))
}

function p95 (values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]
}

async function copyAll (uris: string[]): Promise<number> {
  const t0 = performance.now()
  await Promise.all(uris.map(async u => await run$('nbdcopy', [u, 'null:'])))
  return (performance.now() - t0) / 1000
}

export async function run (): Promise<BenchResult[]> {
  for (const tool of ['qemu-io', 'nbdcopy']) {
    if (await findTool(tool) === undefined) return [{ name: 'clones: skipped', value: 0, unit: '', note: `needs ${tool}` }]
  }
  const dir = await mkdtemp(join(tmpdir(), 'bench-clones-'))
  const data = join(dir, 'node')
  await initLoopbackNode(data)
  const node = await launchCachePoint({ dataDir: data, logLevel: 'warn' })
  try {
    const file = join(dir, 'image.raw')
    await writeFile(file, seededBytes('bench-clones', IMAGE_MIB * MiB))
    await node.client.importImage({ file, name: 'gold', version: 'v1' }, () => {})
    await rm(file)
    const e = await node.client.serve({ ref: 'gold@v1', port: 0, pool: { count: N, prefix: 'desk' }, pull: false })
    if (e.pool === null) throw new Error('bench clones: no pool')
    const uris = e.pool.members.map(m => m.uri)
    // each desktop writes 4 MiB of its own at its own place (a login, a profile)
    await Promise.all(uris.map(async (u, i) => await run$('qemu-io', ['-f', 'raw', '-c', `write -P ${i + 1} ${(i * 4) % IMAGE_MIB}M 4M`, '-c', 'flush', u])))
    const cold = await copyAll(uris.slice(0, 1))
    // then with the shared cache warm, as the other clones find it
    const one = await copyAll(uris.slice(0, 1))
    const all = await copyAll(uris)
    const alone = await randomReads(uris[0], 1)
    const together = (await Promise.all(uris.map(async (u, i) => await randomReads(u, i + 2)))).flat()
    const info = (await node.client.exports()).find(x => x.id === e.id)?.pool
    const store = await allocated(join(data, 'store'))
    const overlays = await allocated(join(data, 'overlays'))
    const rss = Number(/VmRSS:\s+(\d+)/.exec(await readFile(`/proc/${node.process.pid ?? 0}/status`, 'utf8'))?.[1] ?? 0) * 1024
    await node.client.unserve(e.id)
    const full = N * IMAGE_MIB * MiB
    const oneRate = IMAGE_MIB / one
    const allRate = N * IMAGE_MIB / all
    return [
      { name: `clones: disk, store + ${N} overlays`, value: (store + overlays) / MiB, unit: 'MiB', baselineName: `${N} full copies`, baseline: full / MiB, ratio: (store + overlays) / full, goal: '<= 0.10', met: (store + overlays) / full <= 0.1 },
      { name: `clones: aggregate read, ${N} nbdcopy at once`, value: allRate, unit: 'MiB/s', baselineName: 'one client alone', baseline: oneRate, ratio: allRate / oneRate, goal: '>= 1.0', met: allRate >= oneRate },
      { name: `clones: p95 64 KiB read, ${N} clients at once`, value: p95(together), unit: 'ms', baselineName: 'one client alone', baseline: p95(alone), ratio: p95(together) / p95(alone) },
      { name: 'clones: daemon RSS after the reads', value: rss / MiB, unit: 'MiB', note: `shared cache ${JSON.stringify(info?.cache ?? {})}; pool of ${N} ready in ${e.pool.readyMs.toFixed(0)} ms; first (cold) read of one clone ${(IMAGE_MIB / cold).toFixed(0)} MiB/s` }
    ]
  } finally {
    await node.stop()
    await rm(dir, { recursive: true, force: true })
  }
}
