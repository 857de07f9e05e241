/**
 * Streaming an image version before it has arrived (issue 7), with real daemons on loopback and
 * qemu-io as the NBD client: on a fresh node, time to first byte and time to read a 100 MiB file
 * inside the image (its extents, found with debugfs on the source image) through
 * `cachepoint image serve`, vs pulling the whole version first and then reading it locally.
 * Sizes: BENCH_NBD_MIB (image, default 1024), BENCH_NBD_FILE_MIB (file, default 100).
 */
import '@cachecloud/core/polyfill'
import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { findTool, makeExt4Image, seededBytes } from '@cachecloud/fixtures'
import { initLoopbackNode, launchCachePoint, type LaunchedCachePoint } from 'cachepoint/launcher'
import type { BenchResult } from './types.js'

const run$ = promisify(execFile)
const IMAGE_MIB = Number(process.env.BENCH_NBD_MIB ?? 1024)
const FILE_MIB = Number(process.env.BENCH_NBD_FILE_MIB ?? 100)
const FILE = '/data/file.bin'

/** Byte ranges of a file inside an ext4 image, from debugfs (physical blocks, coalesced). */
async function extents (image: string, path: string): Promise<Array<[number, number]>> {
  const stats = (await run$('debugfs', ['-R', 'stats', image])).stdout
  const blockSize = Number(/Block size:\s+(\d+)/.exec(stats)?.[1])
  const blocks = (await run$('debugfs', ['-R', `blocks ${path}`, image], { maxBuffer: 64 * 1024 * 1024 })).stdout.trim().split(/\s+/).map(Number)
  const out: Array<[number, number]> = []
  for (const b of blocks) {
    const last = out.at(-1)
    if (last !== undefined && last[0] + last[1] === b * blockSize && last[1] < 32 * 1024 * 1024) last[1] += blockSize
    else out.push([b * blockSize, blockSize])
  }
  return out
}

async function qemuRead (uri: string, ranges: Array<[number, number]>): Promise<void> {
  // one qemu-io process, one read command per extent, in file order (what a guest reading the file asks for)
  for (let i = 0; i < ranges.length; i += 200) {
    await run$('qemu-io', ['-f', 'raw', '-r', uri, ...ranges.slice(i, i + 200).flatMap(([o, l]) => ['-c', `read ${o} ${l}`])], { maxBuffer: 16 * 1024 * 1024 })
  }
}

async function node (dir: string, name: string, peers: string[], trusted: string[]): Promise<LaunchedCachePoint> {
  await initLoopbackNode(join(dir, name), { peers, trustedPublishers: trusted })
  return await launchCachePoint({ dataDir: join(dir, name), logLevel: 'warn' })
}

async function connected (n: LaunchedCachePoint): Promise<void> {
  const end = Date.now() + 20_000
  while ((await n.client.status()).connections === 0) {
    if (Date.now() > end) throw new Error('bench nbd: node did not connect to the source')
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

export async function run (): Promise<BenchResult[]> {
  if (await findTool('qemu-io') === undefined || await findTool('debugfs') === undefined) {
    return [{ name: 'nbd: skipped', value: 0, unit: '', note: 'needs qemu-io (qemu-utils) and debugfs (e2fsprogs)' }]
  }
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-nbd-'))
  const nodes: LaunchedCachePoint[] = []
  try {
    const image = join(dir, 'image.raw')
    await makeExt4Image({ path: image, sizeMiB: IMAGE_MIB, seed: 'bench-nbd', fill: 0.3, files: { [FILE]: seededBytes('bench-nbd-file', FILE_MIB * 1024 * 1024) } })
    const ranges = await extents(image, FILE)
    const init = await initLoopbackNode(join(dir, 'src'))
    const src = await launchCachePoint({ dataDir: join(dir, 'src'), logLevel: 'warn' })
    nodes.push(src)
    const imported = await src.client.importImage({ file: image, name: 'bench', version: 'v1' }, () => {})

    // on demand: serve at once, read the file while the background pull runs
    const fresh = await node(dir, 'fresh', [src.address], [init.publisherKey])
    nodes.push(fresh)
    await connected(fresh)
    let t0 = performance.now()
    const e = await fresh.client.serve({ ref: 'bench@v1', port: 0 })
    await qemuRead(e.uri, [[ranges[0][0], 4096]])
    const ttfb = performance.now() - t0
    await qemuRead(e.uri, ranges)
    const fileMs = performance.now() - t0
    const reads = (await fresh.client.exports())[0].reads
    // its background pull would compete with the runs below: stop the node
    await fresh.stop()

    // the same reads with no background pull (serve --no-pull): what reads alone cost
    const lazy = await node(dir, 'lazy', [src.address], [init.publisherKey])
    nodes.push(lazy)
    await connected(lazy)
    t0 = performance.now()
    const l = await lazy.client.serve({ ref: 'bench@v1', port: 0, pull: false })
    await qemuRead(l.uri, ranges)
    const lazyMs = performance.now() - t0
    const lazyReads = (await lazy.client.exports())[0].reads
    await lazy.stop()

    // baseline: the whole version first, then the same reads from local blocks
    const waiting = await node(dir, 'waiting', [src.address], [init.publisherKey])
    nodes.push(waiting)
    await connected(waiting)
    t0 = performance.now()
    await waiting.client.pull({ ref: 'bench@v1', from: [src.address] }, () => {})
    const pullMs = performance.now() - t0
    const local = await waiting.client.serve({ ref: 'bench@v1', port: 0 })
    await qemuRead(local.uri, [[ranges[0][0], 4096]])
    const ttfbFull = performance.now() - t0
    await qemuRead(local.uri, ranges)
    const fileFull = performance.now() - t0

    const note = `${IMAGE_MIB} MiB image (${(imported.newBytes / 1048576).toFixed(0)} MiB of blocks), ${FILE_MIB} MiB file in ${ranges.length} extents; ` +
      `on demand fetched ${(reads.fetchedBytes / 1048576).toFixed(1)} MiB in ${reads.onDemandReads} reads (p50 ${reads.onDemandLatencyMs?.p50.toFixed(1) ?? '-'} ms, p95 ${reads.onDemandLatencyMs?.p95.toFixed(1) ?? '-'} ms); full pull ${(pullMs / 1000).toFixed(1)} s`
    return [
      { name: 'nbd: time to first byte, fresh node', value: ttfb, unit: 'ms', baselineName: 'full pull first', baseline: ttfbFull, ratio: ttfbFull / ttfb, goal: '> 1', met: ttfbFull > ttfb },
      { name: `nbd: read a ${FILE_MIB} MiB file inside the image, fresh node`, value: fileMs / 1000, unit: 's', baselineName: 'full pull first', baseline: fileFull / 1000, ratio: fileFull / fileMs, goal: '> 1', met: fileFull > fileMs, note },
      {
        name: `nbd: read the ${FILE_MIB} MiB file, fresh node, no background pull`, value: lazyMs / 1000, unit: 's', baselineName: 'full pull first', baseline: fileFull / 1000, ratio: fileFull / lazyMs,
        note: `fetched ${(lazyReads.fetchedBytes / 1048576).toFixed(1)} MiB on demand (${(lazyReads.fetchedBytes / 1048576 / (lazyMs / 1000)).toFixed(1)} MiB/s), p50 ${lazyReads.onDemandLatencyMs?.p50.toFixed(1) ?? '-'} ms per read`
      }
    ]
  } finally {
    await Promise.allSettled(nodes.map(async n => { await n.stop() }))
    await rm(dir, { recursive: true, force: true })
  }
}
