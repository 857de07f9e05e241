/**
 * Personal folders. (1) Snapshot of a tree of small files against
 * `restic backup` (Debian's restic) on the same tree: first run (new data,
 * MB/s and files/s) and unchanged rerun. (2) Replication to a data-center
 * store on loopback after editing 1% of the files: bytes on the wire vs the
 * changed files' bytes. (3) Scale: a folder of 50,000 files / 2 GiB, peak RSS
 * while snapshotting, and an unchanged rescan.
 * Sizes: BENCH_PERSONAL_FILES (default 20000, ~8 KiB each),
 * BENCH_PERSONAL_SCALE_FILES (default 50000; 0 skips), BENCH_PERSONAL_SCALE_GIB (default 2).
 */
import '@cachecloud/core/polyfill'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createBlockstore } from '@cachecloud/blockstore'
import { findTool } from '@cachecloud/fixtures'
import { createPersonalFolder } from '@cachecloud/personal'
import { content, editOnePercent, PER_DIR, startPersonalPair } from './personal-pair.js'
import type { BenchResult } from './types.js'

const run$ = promisify(execFile)
const FILES = Number(process.env.BENCH_PERSONAL_FILES ?? 20_000)
const SCALE_FILES = Number(process.env.BENCH_PERSONAL_SCALE_FILES ?? 50_000)
const SCALE_BYTES = Number(process.env.BENCH_PERSONAL_SCALE_GIB ?? 2) * 1024 ** 3

/** `count` files of about `avg` bytes (0.25x-1.75x), PER_DIR per directory; returns their total bytes. */
export async function makeTree (root: string, count: number, avg: number, seed: string): Promise<number> {
  let total = 0
  for (let d = 0; d * PER_DIR < count; d++) {
    await mkdir(join(root, `dir${d}`), { recursive: true })
    const n = Math.min(PER_DIR, count - d * PER_DIR)
    const sizes = Array.from({ length: n }, (_, f) => Math.floor(avg * (0.25 + 1.5 * (((d * PER_DIR + f) * 7919) % 1000) / 1000)))
    await Promise.all(sizes.map(async (size, f) => { await writeFile(join(root, `dir${d}`, `f${f}.dat`), content(`${seed}/${d}/${f}`, size)) }))
    total += sizes.reduce((a, b) => a + b, 0)
  }
  return total
}

const seconds = async (fn: () => Promise<unknown>): Promise<number> => { const t = performance.now(); await fn(); return (performance.now() - t) / 1000 }

/** Bytes of every file under `path`. */
async function dirBytes (path: string): Promise<number> {
  let total = 0
  for (const name of await readdir(path, { recursive: true })) {
    const st = await stat(join(path, name))
    if (st.isFile()) total += st.size
  }
  return total
}

interface Restic { first: number, rerun: number, backup: () => Promise<unknown>, repo: string }

async function resticTimes (folder: string, dir: string): Promise<Restic | undefined> {
  if (await findTool('restic') === undefined) return undefined
  const repo = join(dir, 'restic-repo')
  const env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: repo, RESTIC_CACHE_DIR: join(dir, 'restic-cache') }
  await run$('restic', ['init', '-q'], { env })
  const backup = async (): Promise<unknown> => await run$('restic', ['backup', '-q', folder], { env, maxBuffer: 1 << 24 })
  return { first: await seconds(backup), rerun: await seconds(backup), backup, repo }
}

export async function run (): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-personal-'))
  const results: BenchResult[] = []
  const MB = 1e6
  try {
    const folder = join(dir, 'home')
    const bytes = await makeTree(folder, FILES, 8 * 1024, 'v1')
    const pair = await startPersonalPair(dir, folder)
    const { sync, discovery } = pair
    try {
      const first = await seconds(async () => await sync.snapshot())
      const rerun = await seconds(async () => await sync.snapshot())
      const restic = await resticTimes(folder, dir)
      results.push({
        name: `personal snapshot, first run (${FILES} files, ${(bytes / MB).toFixed(0)} MB)`, value: bytes / MB / first, unit: 'MB/s',
        ...(restic === undefined ? {} : { baselineName: 'restic backup', baseline: bytes / MB / restic.first, ratio: first / restic.first, goal: 'time <= 1.0x restic', met: first <= restic.first }),
        note: `${(FILES / first).toFixed(0)} files/s${restic === undefined ? '' : ` vs restic ${(FILES / restic.first).toFixed(0)} files/s`}; ratio is our time / restic's`
      })
      results.push({
        name: 'personal snapshot, unchanged rerun', value: rerun, unit: 's',
        ...(restic === undefined ? {} : { baselineName: 'restic backup', baseline: restic.rerun, ratio: rerun / restic.rerun, goal: '< 1 (faster)', met: rerun < restic.rerun })
      })

      await sync.replicate()
      const { edited, changed } = await editOnePercent(folder, FILES)
      await sync.snapshot()
      const r = await sync.replicate()
      // restic's repository growth for the same edit: what it would upload to a remote repository
      let resticBytes: number | undefined
      if (restic !== undefined) {
        const before = await dirBytes(restic.repo)
        await restic.backup()
        resticBytes = await dirBytes(restic.repo) - before
      }
      results.push({
        name: `personal replication after editing 1% of files (${edited})`, value: r.wireBytes / MB, unit: 'MB',
        baselineName: 'changed files\' bytes', baseline: changed / MB, ratio: r.wireBytes / changed, goal: '<= 1.1', met: r.wireBytes <= 1.1 * changed,
        note: `block bytes ${(r.bytesSent / MB).toFixed(2)} MB, ${r.deltas} directory blocks as deltas; the rest is WANTs and framing (breakdown: bench/dist/src/personal-overhead.js)${resticBytes === undefined ? '' : `; restic's repository grew ${(resticBytes / MB).toFixed(2)} MB for the same edit (${(resticBytes / changed).toFixed(2)}x changed bytes)`}`
      })
    } finally {
      await pair.stop()
    }

    if (SCALE_FILES > 0) {
      const big = join(dir, 'big')
      await rm(folder, { recursive: true, force: true })
      const total = await makeTree(big, SCALE_FILES, Math.floor(SCALE_BYTES / SCALE_FILES), 'scale')
      const bs = createBlockstore({ path: join(dir, 'scale-blocks') })
      await bs.start()
      const s = createPersonalFolder({ user: 'bob', folder: big, stateDir: join(dir, 'scale-state'), blockstore: bs, node: 'bench', discoveryKey: discovery.publicKey, watch: false })
      let peak = process.memoryUsage().rss
      const base = peak
      const timer = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss) }, 100)
      const t = await seconds(async () => await s.snapshot())
      clearInterval(timer)
      let rehashed = -1
      const rescan = await seconds(async () => { rehashed = (await s.snapshot()).stats.hashedFiles })
      await bs.stop()
      results.push({ name: `personal snapshot at scale (${SCALE_FILES} files, ${(total / 2 ** 30).toFixed(2)} GiB)`, value: total / MB / t, unit: 'MB/s', note: `peak RSS ${(peak / 2 ** 20).toFixed(0)} MiB (${((peak - base) / 2 ** 20).toFixed(0)} MiB above the start); unchanged rescan ${rescan.toFixed(1)} s, re-hashed ${rehashed} files` })
      results.push({ name: 'personal snapshot at scale: peak RSS growth', value: (peak - base) / 2 ** 20, unit: 'MiB', goal: '< 512', met: peak - base < 512 * 2 ** 20 })
    }
    return results
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
