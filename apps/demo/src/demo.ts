#!/usr/bin/env node
/**
 * The README's first command: three CachePoints on loopback (a data-center
 * publisher and two branch nodes), a real ext4 image imported on the
 * publisher, pulled by branch A over "WAN" and by branch B from branch A,
 * then an OS-like update published as v2 and delta-pulled the same way.
 * Prints the bytes moved at each step and checks the final export's SHA-256.
 */
import '@cachecloud/core/polyfill'
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import type { ProgressEvent } from '@cachecloud/core'
import { makeExt4Image, sha256File, updateImage } from '@cachecloud/fixtures'
import { count, formatBytes, formatRate, table } from 'cachepoint/format'
import { initLoopbackNode, launchCachePoint, type LaunchedCachePoint } from 'cachepoint/launcher'
import { createProgressRenderer } from 'cachepoint/progress'

const IMAGE_MIB = Number(process.env.DEMO_IMAGE_MIB ?? 512)
const workDir = resolve(process.env.DEMO_DIR ?? '.demo')

function say (text: string): void {
  process.stdout.write(text + '\n')
}

async function step<T> (label: string, work: (onProgress: (event: ProgressEvent) => void) => Promise<T>): Promise<T> {
  const renderer = createProgressRenderer(label, { json: false })
  try {
    return await work((event) => { renderer.update(event) })
  } finally {
    renderer.stop()
  }
}

const nodes: LaunchedCachePoint[] = []
const rows: string[][] = []

async function main (): Promise<void> {
  await rm(workDir, { recursive: true, force: true })
  await mkdir(workDir, { recursive: true })
  say(`CacheCloud demo in ${workDir}`)

  say(`\n1. building a real ext4 gold image (${IMAGE_MIB} MiB, mke2fs -d) ...`)
  const v1File = join(workDir, 'gold-v1.raw')
  const image = await makeExt4Image({ path: v1File, sizeMiB: IMAGE_MIB, seed: 'demo' })
  say(`   ${count(image.files.length, 'file')}, ${formatBytes(image.contentBytes)} of content in a ${formatBytes(image.size)} image`)

  const dc = await initLoopbackNode(join(workDir, 'dc'))
  const trust = [dc.publisherKey]
  await initLoopbackNode(join(workDir, 'branch-a'), { trustedPublishers: trust })
  await initLoopbackNode(join(workDir, 'branch-b'), { trustedPublishers: trust })
  for (const name of ['dc', 'branch-a', 'branch-b']) nodes.push(await launchCachePoint({ dataDir: join(workDir, name) }))
  const [dcNode, a, b] = nodes
  say(`\n2. three CachePoints on loopback (logs in ${workDir}/*/daemon.log):`)
  for (const [name, node] of [['dc', dcNode], ['branch-a', a], ['branch-b', b]] as const) say(`   ${name.padEnd(9)} ${node.address}`)

  const v1 = await step('import gold@v1', async (p) => dcNode.client.importImage({ file: v1File, name: 'gold', version: 'v1' }, p))
  say(`\n3. dc imported gold@v1: ${count(v1.blocks, 'block')}, ${count(v1.holes, 'hole')} (never stored or sent), ${formatBytes(v1.newBytes)} stored`)

  const pullA1 = await step('branch-a pull gold@v1', async (p) => a.client.pull({ ref: 'gold@v1', from: [dcNode.address] }, p))
  const pullB1 = await step('branch-b pull gold@v1', async (p) => b.client.pull({ ref: 'gold@v1', from: [a.address] }, p))
  say(`4. gold@v1: branch-a pulled ${formatBytes(pullA1.fetchedBytes)} from dc, branch-b ${formatBytes(pullB1.fetchedBytes)} from branch-a`)
  rows.push(['v1 dc -> branch-a', formatBytes(image.size), formatBytes(pullA1.fetchedBytes), formatBytes(pullA1.wireBytes), formatRate(pullA1.fetchedBytes / Math.max(pullA1.durationMs / 1000, 0.001))])
  rows.push(['v1 branch-a -> branch-b', formatBytes(image.size), formatBytes(pullB1.fetchedBytes), formatBytes(pullB1.wireBytes), formatRate(pullB1.fetchedBytes / Math.max(pullB1.durationMs / 1000, 0.001))])

  const v2File = join(workDir, 'gold-v2.raw')
  await copyFile(v1File, v2File)
  const update = await updateImage(v2File, { seed: 'demo-update', changedFiles: 12, newFiles: 6, newBytes: 8 * 1024 * 1024, removedFiles: 2 })
  say(`\n5. OS update applied with debugfs: ${count(update.changed.length, 'file')} replaced, ${update.added.length} added, ${update.removed.length} removed, ${formatBytes(update.writtenBytes)} written`)
  await step('import gold@v2', async (p) => dcNode.client.importImage({ file: v2File, name: 'gold', version: 'v2' }, p))
  const diff = await dcNode.client.diff('gold@v1', 'gold@v2')
  say(`   dc published gold@v2: ${count(diff.changedBlocks, 'block')} changed, ${diff.addedBlocks} added; a v1 holder needs ${count(diff.fetchBlocks, 'block')}, ${formatBytes(diff.fetchBytes)}`)

  const pullA2 = await step('branch-a pull gold@v2', async (p) => a.client.pull({ ref: 'gold@v2', from: [dcNode.address] }, p))
  const pullB2 = await step('branch-b pull gold@v2', async (p) => b.client.pull({ ref: 'gold@v2', from: [a.address] }, p))
  rows.push(['v2 dc -> branch-a (delta)', formatBytes(image.size), formatBytes(pullA2.fetchedBytes), formatBytes(pullA2.wireBytes), formatRate(pullA2.fetchedBytes / Math.max(pullA2.durationMs / 1000, 0.001))])
  rows.push(['v2 branch-a -> branch-b (delta)', formatBytes(image.size), formatBytes(pullB2.fetchedBytes), formatBytes(pullB2.wireBytes), formatRate(pullB2.fetchedBytes / Math.max(pullB2.durationMs / 1000, 0.001))])

  const exported = join(workDir, 'branch-b-gold-v2.raw')
  await step('branch-b export gold@v2', async (p) => b.client.exportImage({ ref: 'gold@v2', file: exported }, p))
  const [want, got] = await Promise.all([sha256File(v2File), sha256File(exported)])

  say('\n6. bytes moved:')
  say(table(['TRANSFER', 'IMAGE', 'BLOCK BYTES', 'ON THE WIRE', 'RATE'], rows))
  say(`\n   delta: ${formatBytes(pullA2.fetchedBytes)} fetched for ${formatBytes(diff.fetchBytes)} of changed blocks (${(pullA2.wireBytes / Math.max(diff.fetchBytes, 1)).toFixed(3)}x with framing), ${(100 * pullA2.fetchedBytes / image.size).toFixed(2)}% of the image`)
  say(`   branch-b's export of gold@v2: sha256 ${got} ${want === got ? '== original (bit-identical)' : `!= original ${want}`}`)
  if (want !== got) process.exitCode = 1
}

try {
  await main()
} catch (err) {
  process.stderr.write(`demo failed: ${err instanceof Error ? err.message : String(err)}\n`)
  process.exitCode = 1
} finally {
  await Promise.all(nodes.map(async (node) => node.stop()))
}
