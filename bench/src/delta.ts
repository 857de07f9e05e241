/**
 * Delta efficiency between two real CachePoint daemons on loopback: a node
 * holding v1 of a real ext4 image pulls v2 (an OS-like update made with
 * debugfs). Figures: bytes on the wire vs the changed blocks' bytes (goal
 * <= 1.05), and what crosses the wire vs the bytes of files the update wrote,
 * beside rsync's delta (literal data) over the same two images.
 */
import '@cachecloud/core/polyfill'
import { execFile } from 'node:child_process'
import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { findTool, makeExt4Image, updateImage } from '@cachecloud/fixtures'
import { initLoopbackNode, launchCachePoint, type LaunchedCachePoint } from 'cachepoint/launcher'
import type { BenchResult } from './types.js'

const run$ = promisify(execFile)
const IMAGE_MIB = Number(process.env.BENCH_DELTA_MIB ?? 512)

/** rsync's delta-transfer algorithm on the same files: the literal bytes it would send. */
async function rsyncLiteralBytes (from: string, to: string, dir: string): Promise<number | undefined> {
  if (await findTool('rsync') === undefined) return undefined
  const target = join(dir, 'rsync-target.raw')
  await copyFile(from, target)
  const { stdout } = await run$('rsync', ['--no-whole-file', '--inplace', '--stats', to, target], { maxBuffer: 1 << 20 })
  await rm(target)
  const match = /Literal data: ([\d,]+) bytes/.exec(stdout)
  return match === null ? undefined : Number(match[1].replaceAll(',', ''))
}

export async function run (): Promise<BenchResult[]> {
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-delta-'))
  const nodes: LaunchedCachePoint[] = []
  try {
    const v1 = join(dir, 'v1.raw')
    const v2 = join(dir, 'v2.raw')
    await makeExt4Image({ path: v1, sizeMiB: IMAGE_MIB, seed: 'bench-delta', fill: 0.5 })
    await copyFile(v1, v2)
    const update = await updateImage(v2, { seed: 'bench-delta-2', changedFiles: 12, newFiles: 6, newBytes: 8 * 1024 * 1024, removedFiles: 2 })

    const a = await initLoopbackNode(join(dir, 'a'))
    await initLoopbackNode(join(dir, 'b'), { trustedPublishers: [a.publisherKey] })
    const [nodeA, nodeB] = [await launchCachePoint({ dataDir: join(dir, 'a') }), await launchCachePoint({ dataDir: join(dir, 'b') })]
    nodes.push(nodeA, nodeB)
    await nodeA.client.importImage({ file: v1, name: 'os', version: 'v1' }, () => {})
    await nodeA.client.importImage({ file: v2, name: 'os', version: 'v2' }, () => {})
    await nodeB.client.pull({ ref: 'os@v1', from: [nodeA.address] }, () => {})
    const pulled = await nodeB.client.pull({ ref: 'os@v2', from: [nodeA.address] }, () => {})
    const diff = await nodeA.client.diff('os@v1', 'os@v2')
    const rsync = await rsyncLiteralBytes(v1, v2, dir)

    const MB = 1e6
    return [
      {
        name: 'delta pull: bytes on the wire / changed blocks\' bytes',
        value: pulled.wireBytes / MB,
        unit: 'MB',
        baselineName: 'changed blocks',
        baseline: diff.fetchBytes / MB,
        ratio: pulled.wireBytes / diff.fetchBytes,
        goal: '<= 1.05',
        met: pulled.wireBytes <= 1.05 * diff.fetchBytes && pulled.fetchedBytes === diff.fetchBytes,
        note: `${diff.fetchBlocks} changed blocks of ${diff.blockSize / 1024} KiB; block payload fetched ${pulled.fetchedBytes} bytes`
      },
      {
        name: 'delta pull: bytes on the wire / bytes of files the update wrote',
        value: pulled.wireBytes / MB,
        unit: 'MB',
        baselineName: 'update wrote',
        baseline: update.writtenBytes / MB,
        ratio: pulled.wireBytes / update.writtenBytes,
        note: 'block granularity: a file change dirties whole blocks, plus ext4 metadata blocks'
      },
      ...(rsync === undefined
        ? []
        : [{
            name: 'delta pull: bytes on the wire vs rsync delta (literal data)',
            value: pulled.wireBytes / MB,
            unit: 'MB',
            baselineName: 'rsync --no-whole-file',
            baseline: rsync / MB,
            ratio: pulled.wireBytes / rsync,
            note: 'rsync needs both files at once and rolls a checksum over the whole image on both sides; a CachePoint knows the delta from manifests alone'
          }])
    ]
  } finally {
    await Promise.all(nodes.map(async (n) => n.stop()))
    await rm(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const r of await run()) process.stdout.write(JSON.stringify(r) + '\n')
}
