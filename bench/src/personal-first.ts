/**
 * A personal folder's first snapshot against `restic backup` of the same tree,
 * alternating runs (fresh state each time) so that both see the same machine
 * load; best of BENCH_PERSONAL_RUNS (default 2) each. Also runnable alone, for
 * profiling: `node --cpu-prof bench/dist/src/personal-first.js`.
 * Sizes: BENCH_PERSONAL_FILES (default 20000, ~8 KiB each, random);
 * BENCH_PERSONAL_CONCURRENCY, BENCH_PERSONAL_SEAL_THREADS (default: the package's); BENCH_PERSONAL_TREE: a
 * directory to keep the tree in and reuse (so that a profile holds the snapshot
 * only); BENCH_PERSONAL_RESTIC=0 skips restic.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'
import { createBlockstore } from '@cachecloud/blockstore'
import { findTool } from '@cachecloud/fixtures'
import { createPersonalFolder, generateX25519KeyPair } from '@cachecloud/personal'
import { makeTree } from './personal.js'
import type { BenchResult } from './types.js'

const run$ = promisify(execFile)
const FILES = Number(process.env.BENCH_PERSONAL_FILES ?? 20_000)
const RUNS = Number(process.env.BENCH_PERSONAL_RUNS ?? 2)
const CONCURRENCY = process.env.BENCH_PERSONAL_CONCURRENCY === undefined ? undefined : Number(process.env.BENCH_PERSONAL_CONCURRENCY)
const SEAL_THREADS = process.env.BENCH_PERSONAL_SEAL_THREADS === undefined ? undefined : Number(process.env.BENCH_PERSONAL_SEAL_THREADS)

const seconds = async (fn: () => Promise<unknown>): Promise<number> => { const t = performance.now(); await fn(); return (performance.now() - t) / 1000 }

/** One run: wall seconds and CPU seconds (user + system, every thread; for restic its process, from this one's reaped children). */
interface Timed { wall: number, cpu: number }

/** CPU seconds of this process's reaped children (Linux /proc/self/stat cutime + cstime), NaN elsewhere. */
async function childCpu (): Promise<number> {
  const stat = await readFile('/proc/self/stat', 'utf8').catch(() => undefined)
  if (stat === undefined) return NaN
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  // fields from the third of proc(5): cutime is the 16th, cstime the 17th, in clock ticks (100 per second here)
  return (Number(fields[13]) + Number(fields[14])) / 100
}

async function ownCpu<T> (fn: () => Promise<T>): Promise<Timed> {
  const c = process.cpuUsage()
  const wall = await seconds(fn)
  const d = process.cpuUsage(c)
  return { wall, cpu: (d.user + d.system) / 1e6 }
}

/** One first snapshot of `folder` into a fresh block store. */
async function ours (folder: string, dir: string, i: number): Promise<Timed> {
  const blockstore = createBlockstore({ path: join(dir, `blocks-${i}`) })
  await blockstore.start()
  const sync = createPersonalFolder({
    user: 'alice', folder, stateDir: join(dir, `state-${i}`), blockstore, node: 'bench', discoveryKey: generateX25519KeyPair().publicKey, watch: false,
    ...(CONCURRENCY === undefined ? {} : { concurrency: CONCURRENCY }), ...(SEAL_THREADS === undefined ? {} : { sealThreads: SEAL_THREADS })
  })
  try { return await ownCpu(async () => await sync.snapshot()) } finally {
    await blockstore.stop()
    await rm(join(dir, `blocks-${i}`), { recursive: true, force: true })
  }
}

/** One first `restic backup` of `folder` into a fresh repository. */
async function restic (folder: string, dir: string, i: number): Promise<Timed> {
  const repo = join(dir, `restic-${i}`)
  const env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: join(dir, `restic-cache-${i}`) }
  await run$('restic', ['init', '-q'], { env })
  try {
    const before = await childCpu()
    const wall = await seconds(async () => await run$('restic', ['backup', '-q', folder], { env, maxBuffer: 1 << 24 }))
    return { wall, cpu: await childCpu() - before }
  } finally {
    await rm(repo, { recursive: true, force: true })
  }
}

export async function run (): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-personal-first-'))
  const MB = 1e6
  try {
    const kept = process.env.BENCH_PERSONAL_TREE
    const folder = kept ?? join(dir, 'home')
    const existing = kept === undefined ? undefined : await stat(kept + '.bytes').catch(() => undefined)
    const bytes = existing !== undefined ? Number(existing.size) : await makeTree(folder, FILES, 8 * 1024, 'first')
    // the tree's byte count is kept as the length of a file outside it
    if (kept !== undefined && existing === undefined) await writeFile(kept + '.bytes', Buffer.alloc(bytes))
    const hasRestic = process.env.BENCH_PERSONAL_RESTIC !== '0' && await findTool('restic') !== undefined
    const mine: Timed[] = []
    const theirs: Timed[] = []
    const load: string[] = []
    for (let i = 0; i < RUNS; i++) {
      load.push((await readFile('/proc/loadavg', 'utf8').catch(() => '? ')).split(' ')[0])
      mine.push(await ours(folder, dir, i))
      if (hasRestic) theirs.push(await restic(folder, dir, i))
    }
    const first = Math.min(...mine.map(t => t.wall))
    const r = theirs.length === 0 ? undefined : Math.min(...theirs.map(t => t.wall))
    const cpu = Math.min(...mine.map(t => t.cpu))
    const rCpu = theirs.length === 0 ? undefined : Math.min(...theirs.map(t => t.cpu))
    const runs = (ts: Timed[]): string => ts.map(t => `${t.wall.toFixed(2)} s (${t.cpu.toFixed(2)} CPU-s)`).join(', ')
    return [{
      name: `personal first snapshot (${FILES} files, ${(bytes / MB).toFixed(0)} MB, best of ${RUNS})`, value: bytes / MB / first, unit: 'MB/s',
      ...(r === undefined ? {} : { baselineName: 'restic backup', baseline: bytes / MB / r, ratio: first / r, goal: 'time <= 1.0x restic', met: first <= r }),
      note: `${(FILES / first).toFixed(0)} files/s${r === undefined ? '' : ` vs restic ${(FILES / r).toFixed(0)} files/s`}; runs ${runs(mine)}${r === undefined ? '' : ` vs restic ${runs(theirs)}`}` +
        `; CPU-s ${cpu.toFixed(2)}${rCpu === undefined ? '' : ` vs restic ${rCpu.toFixed(2)} (${(cpu / rCpu).toFixed(2)}x)`}; load average before each run ${load.join(', ')}`
    }]
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) process.stdout.write(JSON.stringify(r) + '\n')
}
