/**
 * A real OS update (issue 11, "Benchmark"): Debian bookworm's root
 * filesystem on a 2 GiB ext4 image (debootstrap), updated in place by its own
 * apt-get inside a loop mount of a copy. On those two versions, in the same
 * run: two real CachePoint daemons (seed imports both, a second node pulls v1
 * then v2), casync, restic and rsync, and the changed 256 KiB blocks raw and
 * zstd-compressed. Bytes come from the daemons' own reports and from du, so
 * the figures follow whatever the block protocol and store do (compression
 * included). Also: importing a sparse 4 GiB image vs the same data dense.
 *
 * Needs root, debootstrap and the package mirror for the images (built once,
 * cached: see debianRootfsImages); without them those rows are skipped with
 * the reason on stderr. Run: BENCH=os-update npm run bench
 */
import '@cachecloud/core/polyfill'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { debianRootfsImages, findTool, RootRequiredError, type RootfsProgress } from '@cachecloud/fixtures'
import { changedBlocks, CHANGE_BLOCK } from './os-update/blocks.js'
import { measureCachePoint } from './os-update/cachepoint.js'
import { timed } from './os-update/du.js'
import { osUpdateRows, sparseImportRows } from './os-update/rows.js'
import { measureCasync, measureRestic, measureRsync } from './os-update/peers.js'
import { measureSparseImport } from './os-update/sparse-import.js'
import type { BenchResult } from './types.js'

const TOOLS = ['debootstrap', 'casync', 'restic', 'rsync']
const say = (line: string): void => { process.stderr.write(`bench: os-update: ${line}\n`) }

function progress (event: RootfsProgress): void {
  if (event.type === 'rootfs:cached') say(`using cached images in ${event.dir}`)
  else if (event.type === 'rootfs:build') say(`building the images (${event.step}) in ${event.dir}`)
  else say(`built the images in ${(event.durationMs / 1000).toFixed(0)} s`)
}

/** Why the OS-update rows cannot run here, or undefined. */
async function missing (): Promise<string | undefined> {
  const absent = []
  for (const tool of TOOLS) if (await findTool(tool) === undefined) absent.push(tool)
  if (absent.length > 0) return `skipped the OS-update rows: missing ${absent.join(', ')} (apt-get install -y ${absent.join(' ')})`
  return undefined
}

async function osUpdate (dir: string): Promise<BenchResult[]> {
  const why = await missing()
  if (why !== undefined) { say(why); return [] }
  let images
  try {
    images = await timed(async () => debianRootfsImages({ onProgress: progress }))
  } catch (err) {
    // Not root and no cache built earlier by root: nothing to measure on.
    if (!(err instanceof RootRequiredError)) throw err
    say(`skipped the OS-update rows: ${err.message}`)
    return []
  }
  const { v1, v2 } = images.value
  say('CachePoint: seed imports v1 and v2, a second node pulls v1 then v2')
  const cachepoint = await timed(async () => measureCachePoint(join(dir, 'cachepoint'), v1, v2))
  say('casync make v1, v2')
  const casync = await measureCasync(dir, v1, v2)
  say('restic backup v1, v2')
  const restic = await measureRestic(dir, v1, v2)
  say('rsync v1 -> v2')
  const rsync = await measureRsync(dir, v1, v2)
  say(`changed ${CHANGE_BLOCK / 1024} KiB blocks, zstd -3`)
  const blocks = await changedBlocks(v1, v2)
  return osUpdateRows({ images: images.value, imagesMs: images.ms, cachepoint: cachepoint.value, cachepointMs: cachepoint.ms, casync, restic, rsync, blocks })
}

export async function run (): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-os-update-'))
  try {
    const started = performance.now()
    const rows = await osUpdate(dir)
    say('import of a sparse 4 GiB image vs the same data dense')
    rows.push(...sparseImportRows(await measureSparseImport(dir)))
    say(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`)
    return rows
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) process.stdout.write(JSON.stringify(r) + '\n')
}
