import assert from 'node:assert/strict'
import { readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { allocatedBytes, makeExt4Image, makeSparseImage, requireTools, rewriteRegion, seededBytes, sha256File, updateImage, type Ext4Image } from '@cachecloud/fixtures'
import { encodeManifest, InvalidManifestError } from '@cachecloud/manifest'
import {
  diffManifests, exportImage, FileExistsError, ImageFileError, importImage, InvalidBlockSizeError, missingBlocks,
  VersionExistsError, VersionIncompleteError
} from '../src/index.js'
import { makeNode, MiB, tempDir, type Node } from './helpers.js'

describe('import and export', () => {
  let files: string
  let v1: Ext4Image
  const nodes: Node[] = []
  const node = async (): Promise<Node> => { const n = await makeNode(); nodes.push(n); return n }

  before(async () => {
    await requireTools(['mke2fs', 'debugfs', 'e2fsck'])
    files = await tempDir()
    v1 = await makeExt4Image({ path: join(files, 'os-v1.raw'), sizeMiB: 64, seed: 'image-test' })
  })
  after(async () => { for (const n of nodes) await n.destroy() })

  it('round-trips a real ext4 image: same SHA-256, sparse output, holes not stored', async () => {
    const { blockstore, catalog, key } = await node()
    const events: Array<{ done: number, total: number }> = []
    const result = await importImage({ file: v1.path, name: 'os', version: 'v1', blockstore, catalog, key, blockSize: 64 * 1024, onProgress: (e) => { events.push(e) } })
    const { manifest, stats } = result
    assert.equal(manifest.size, 64 * MiB)
    assert.equal(manifest.blocks.length, 1024)
    assert.equal(stats.blocks, 1024)
    assert.equal(manifest.parent, null)
    const holes = manifest.blocks.filter((b) => b === null).length
    assert.equal(stats.holes, holes)
    assert.ok(holes > 300, `an ext4 image half empty has many holes (${holes})`)
    assert.equal(await blockstore.has(cidOf(new Uint8Array(64 * 1024))), false, 'the zero block is never stored')
    const distinct = new Set(manifest.blocks.filter((b) => b !== null).map(String))
    assert.equal(stats.newBlocks, distinct.size)
    assert.equal(stats.newBlocks + stats.dedupedBlocks + stats.holes, 1024)
    assert.equal((await blockstore.stats()).blocks, distinct.size + 1, 'data blocks once each plus the manifest')
    assert.equal(events.at(-1)?.done, 64 * MiB)
    assert.ok(events.every((e, i) => e.total === 64 * MiB && (i === 0 || e.done >= (events[i - 1]?.done ?? 0))))

    const entry = await catalog.get({ name: 'os', version: 'v1' })
    assert.equal(entry.state, 'complete')
    assert.equal(entry.cid.toString(), result.cid.toString())

    const out = join(files, 'export-v1.raw')
    const exported = await exportImage({ manifest, blockstore, file: out })
    assert.equal(exported.holes, holes)
    assert.equal(await sha256File(out), await sha256File(v1.path))
    assert.equal((await stat(out)).size, 64 * MiB)
    const allocated = await allocatedBytes(out)
    assert.ok(allocated <= (1024 - holes) * 64 * 1024 + MiB, `exported file is sparse (${allocated} bytes allocated)`)
  })

  it('stores identical content once, within an image and across images', async () => {
    const { blockstore, catalog, key } = await node()
    const path = join(files, 'dup.raw')
    const data = seededBytes('dup', 2 * MiB)
    await makeSparseImage(path, 16 * MiB, [])
    await rewriteRegion(path, 0, data)
    await rewriteRegion(path, 8 * MiB, data)
    const a = await importImage({ file: path, name: 'dup', version: 'a', blockstore, catalog, key, blockSize: 256 * 1024 })
    assert.equal(a.stats.newBlocks, 8)
    assert.equal(a.stats.newBytes, 2 * MiB)
    assert.equal(a.stats.dedupedBlocks, 8)
    assert.equal(a.stats.holes, 48)

    const before = await blockstore.stats()
    const b = await importImage({ file: path, name: 'dup2', version: 'a', blockstore, catalog, key, blockSize: 256 * 1024 })
    assert.equal(b.stats.newBlocks, 0)
    assert.equal(b.stats.newBytes, 0)
    assert.deepEqual(b.manifest.blocks.map(String), a.manifest.blocks.map(String))
    assert.equal((await blockstore.stats()).blocks, before.blocks + 1, 'only the new manifest')
  })

  it('imports an update with its parent; the diff matches what changed', async (t) => {
    const holder = await node()
    const publisher = await node()
    const path = join(files, 'os-upd.raw')
    await writeFile(path, await readFile(v1.path))
    const blockSize = 64 * 1024
    const first = await importImage({ file: path, name: 'os', version: 'v1', blockstore: publisher.blockstore, catalog: publisher.catalog, key: publisher.key, blockSize })
    await importImage({ file: path, name: 'os', version: 'v1', blockstore: holder.blockstore, catalog: holder.catalog, key: publisher.key, blockSize })

    const update = await updateImage(path, { seed: 'upd', changedFiles: 4, newFiles: 2, newBytes: 2 * MiB })
    const second = await importImage({ file: path, name: 'os', version: 'v2', blockstore: publisher.blockstore, catalog: publisher.catalog, key: publisher.key, blockSize })
    assert.equal(second.manifest.parent?.toString(), first.cid.toString(), 'parent defaults to the newest complete version')

    const d = diffManifests(first.manifest, second.manifest)
    assert.ok(d.changed.length > 0)
    assert.deepEqual([d.added, d.removed], [[], []])
    t.diagnostic(`written ${update.writtenBytes}, fetch ${d.fetchBytes}, changed blocks ${d.changed.length}`)
    const dataBytes = second.manifest.blocks.filter((b) => b !== null).length * blockSize
    // New content must all be fetched; the overhead is partial blocks at file edges plus metadata blocks.
    assert.ok(d.fetchBytes >= update.writtenBytes * 0.95, `fetch ${d.fetchBytes} covers the ${update.writtenBytes} bytes written`)
    assert.ok(d.fetchBytes <= update.writtenBytes + 40 * blockSize + 2 * MiB, `fetch ${d.fetchBytes} is close to the ${update.writtenBytes} bytes written`)
    assert.ok(d.fetchBytes < dataBytes / 3, 'v2 shares most blocks with v1')
    assert.equal(second.stats.newBytes, d.fetchBytes, 'the publisher stored exactly the delta')

    const missing = await missingBlocks(second.manifest, async (cid) => await holder.blockstore.has(cid))
    assert.deepEqual(missing.blocks.map((b) => b.cid.toString()), d.fetch.map((b) => b.cid.toString()))
    assert.equal(missing.bytes, d.fetchBytes)

    const out = join(files, 'export-v2.raw')
    await exportImage({ manifest: second.manifest, blockstore: publisher.blockstore, file: out })
    assert.equal(await sha256File(out), await sha256File(path))
  })

  it('refuses a missing file, an existing version (before reading), a bad block size and an empty file', async () => {
    const { blockstore, catalog, key } = await node()
    const base = { name: 'os', blockstore, catalog, key }
    const missingPath = join(files, 'no-such.raw')
    await assert.rejects(importImage({ ...base, version: 'v1', file: missingPath }),
      (err: Error) => err instanceof ImageFileError && (err as ImageFileError).code === 'ERR_IMAGE_FILE' && err.message.includes(missingPath) && !err.message.includes('\n'))
    await importImage({ ...base, version: 'v1', file: v1.path })
    await assert.rejects(importImage({ ...base, version: 'v1', file: missingPath }),
      (err: Error) => err instanceof VersionExistsError && (err as VersionExistsError).code === 'ERR_VERSION_EXISTS' && err.message.includes('os@v1'))
    for (const blockSize of [1000, 2048, 3 * 65536, 32 * MiB]) {
      await assert.rejects(importImage({ ...base, version: 'bad', file: v1.path, blockSize }), (err: Error) => err instanceof InvalidBlockSizeError && (err as InvalidBlockSizeError).code === 'ERR_INVALID_BLOCK_SIZE')
    }
    const empty = join(files, 'empty.raw')
    await writeFile(empty, '')
    await assert.rejects(importImage({ ...base, version: 'empty', file: empty }), (err: Error) => err instanceof ImageFileError && err.message.includes('empty'))
    await assert.rejects(importImage({ ...base, version: 'dir', file: files }), ImageFileError)
    assert.equal(await catalog.find({ name: 'os', version: 'bad' }), undefined)
  })

  it('stops on abort without recording the version', async () => {
    const { blockstore, catalog, key } = await node()
    const controller = new AbortController()
    await assert.rejects(importImage({
      file: v1.path, name: 'os', version: 'v1', blockstore, catalog, key, blockSize: 16 * 1024, signal: controller.signal,
      onProgress: (e) => { if (e.done > 8 * MiB) controller.abort() }
    }), { name: 'AbortError' })
    assert.equal(await catalog.find({ name: 'os', version: 'v1' }), undefined)
  })

  it('reports a damaged stored manifest, a missing block and an existing export target clearly', async () => {
    const { blockstore, catalog, key, dir } = await node()
    const { manifest, cid } = await importImage({ file: v1.path, name: 'os', version: 'v1', blockstore, catalog, key, blockSize: 256 * 1024 })

    const target = join(files, 'exists.raw')
    await writeFile(target, 'keep me')
    await assert.rejects(exportImage({ manifest, blockstore, file: target }), (err: Error) => err instanceof FileExistsError && (err as FileExistsError).code === 'ERR_FILE_EXISTS' && err.message.includes(target))
    assert.equal(await readFile(target, 'utf8'), 'keep me')
    await exportImage({ manifest, blockstore, file: target, overwrite: true })
    assert.equal(await sha256File(target), await sha256File(v1.path))

    const victim = manifest.blocks.findLast((b) => b !== null)
    assert.ok(victim !== undefined && victim !== null)
    await blockstore.delete(victim)
    await assert.rejects(exportImage({ manifest, blockstore, file: join(files, 'incomplete.raw') }),
      (err: Error) => err instanceof VersionIncompleteError && (err as VersionIncompleteError).code === 'ERR_VERSION_INCOMPLETE' && err.message.includes('os@v1') && err.message.includes(victim.toString()))
    assert.deepEqual((await readdir(files)).filter((f) => f.includes('incomplete')), [], 'no partial file left behind')

    // Wherever the store keeps it (its own file, or a record in a pack, compressed or not), damage the manifest's stored bytes in place.
    const manifestBytes = (await blockstore.getEncoded(encodeManifest(manifest).cid)).bytes
    const found = await findFileHolding(join(dir, 'blocks'), manifestBytes)
    assert.ok(found !== undefined, 'manifest bytes found in the block store')
    const damaged = await readFile(found.path)
    damaged[found.offset + manifestBytes.byteLength - 10] ^= 0xff
    await writeFile(found.path, damaged)
    await assert.rejects(catalog.manifest({ name: 'os', version: 'v1' }),
      (err: Error) => err instanceof InvalidManifestError && err.message.includes('os@v1') && err.message.includes(cid.toString()) && !err.message.includes('\n'))
  })
})

async function findFileHolding (dir: string, bytes: Uint8Array): Promise<{ path: string, offset: number } | undefined> {
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue
    const path = join(entry.parentPath, entry.name)
    if ((await stat(path)).size < bytes.byteLength) continue
    const offset = (await readFile(path)).indexOf(bytes)
    if (offset >= 0) return { path, offset }
  }
  return undefined
}
