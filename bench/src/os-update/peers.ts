import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { du, timed, type TreeSize } from './du.js'

const run$ = promisify(execFile)
const BIG = { maxBuffer: 64 << 20 }

/** casync (Debian): content-defined chunks, zstd-compressed in a chunk store (its default). */
export interface CasyncFigures { storeAfterV1: TreeSize, storeAfterV2: TreeSize, v2NewBytes: number, makeV2Ms: number }

export async function measureCasync (dir: string, v1: string, v2: string): Promise<CasyncFigures> {
  const store = join(dir, 'casync-store')
  await run$('casync', ['make', `--store=${store}`, join(dir, 'v1.caibx'), v1], BIG)
  const storeAfterV1 = await du(store)
  const { ms: makeV2Ms } = await timed(async () => run$('casync', ['make', `--store=${store}`, join(dir, 'v2.caibx'), v2], BIG))
  const storeAfterV2 = await du(store)
  return { storeAfterV1, storeAfterV2, v2NewBytes: storeAfterV2.apparent - storeAfterV1.apparent, makeV2Ms }
}

/** restic (Debian): content-defined chunks, compressed and encrypted packs in a repository. */
export interface ResticFigures { repoAfterV1: TreeSize, repoAfterV2: TreeSize, v2NewBytes: number, rawDataAfterV2?: string }

export async function measureRestic (dir: string, v1: string, v2: string): Promise<ResticFigures> {
  const env = { ...process.env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: join(dir, 'restic'), RESTIC_CACHE_DIR: join(dir, 'restic-cache') }
  await run$('restic', ['init', '--quiet'], { env, ...BIG })
  await run$('restic', ['backup', '--quiet', v1], { env, ...BIG })
  const repoAfterV1 = await du(join(dir, 'restic'))
  await run$('restic', ['backup', '--quiet', v2], { env, ...BIG })
  const repoAfterV2 = await du(join(dir, 'restic'))
  const { stdout } = await run$('restic', ['stats', '--mode', 'raw-data'], { env, ...BIG })
  const rawDataAfterV2 = /Total Size:\s*(.+)/.exec(stdout)?.[1]?.trim()
  return { repoAfterV1, repoAfterV2, v2NewBytes: repoAfterV2.apparent - repoAfterV1.apparent, rawDataAfterV2 }
}

/** rsync's delta algorithm, both files local: a sparse copy of v1 brought to v2 in place (the best of two runs: other jobs share the cores). */
export interface RsyncFigures { literalBytes: number, matchedBytes: number, ms: number, runsMs: number[] }

async function rsyncOnce (dir: string, v1: string, v2: string): Promise<{ stdout: string, ms: number }> {
  const target = join(dir, 'rsync-target.raw')
  await run$('cp', ['--sparse=always', v1, target])
  try {
    const { value: { stdout }, ms } = await timed(async () => run$('rsync', ['--no-whole-file', '--inplace', '--stats', v2, target], BIG))
    return { stdout, ms }
  } finally {
    await rm(target, { force: true })
  }
}

export async function measureRsync (dir: string, v1: string, v2: string): Promise<RsyncFigures> {
  const runs = [await rsyncOnce(dir, v1, v2), await rsyncOnce(dir, v1, v2)]
  const { stdout } = runs[0]
  const field = (name: string): number => Number((new RegExp(`${name}: ([\\d,]+) bytes`).exec(stdout)?.[1] ?? 'NaN').replaceAll(',', ''))
  const runsMs = runs.map(r => r.ms)
  return { literalBytes: field('Literal data'), matchedBytes: field('Matched data'), ms: Math.min(...runsMs), runsMs }
}
