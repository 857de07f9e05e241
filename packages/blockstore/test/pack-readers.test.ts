import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { createBlockstore } from '../src/index.js'
import { MAX_JOINED_READ_BYTES } from '../src/constants.js'
import { packFileName } from '../src/pack-format.js'
import { PackReaders } from '../src/pack-readers.js'
import { tempDir } from './helpers.js'

const KiB = 1024

async function packOf (bytes: Buffer): Promise<PackReaders> {
  const dir = await tempDir()
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, packFileName(1)), bytes)
  return new PackReaders(dir, 4)
}

describe('pack readers', () => {
  it('joins reads of near ranges asked for together into one pread, each caller getting its own bytes', async () => {
    const file = randomBytes(3 * MAX_JOINED_READ_BYTES)
    const readers = await packOf(file)
    try {
      // adjacent, a small gap, overlapping, out of order: one read; far away: another
      const asked: Array<[number, number]> = [
        [100 * KiB, 64 * KiB],
        [0, 100 * KiB],
        [180 * KiB, 20 * KiB],
        [170 * KiB, 20 * KiB],
        [2 * MAX_JOINED_READ_BYTES, 10]
      ]
      const got = await Promise.all(asked.map(async ([offset, length]) => await readers.read(1, offset, length)))
      got.forEach((bytes, i) => { assert.ok(bytes.equals(file.subarray(asked[i][0], asked[i][0] + asked[i][1])), `read ${i}`) })
      assert.equal(readers.preads, 2)
    } finally {
      await readers.close()
    }
  })

  it('splits a run longer than MAX_JOINED_READ_BYTES and answers short where the pack ends', async () => {
    const file = randomBytes(MAX_JOINED_READ_BYTES + 300 * KiB)
    const readers = await packOf(file)
    try {
      const asked: Array<[number, number]> = []
      for (let at = 0; at < file.byteLength; at += 256 * KiB) asked.push([at, 256 * KiB])
      const got = await Promise.all(asked.map(async ([offset, length]) => await readers.read(1, offset, length)))
      got.forEach((bytes, i) => { assert.ok(bytes.equals(file.subarray(asked[i][0], asked[i][0] + asked[i][1])), `read ${i}`) })
      assert.equal(got[got.length - 1].byteLength, file.byteLength % (256 * KiB), 'the last read is short')
      assert.equal(readers.preads, 2)
    } finally {
      await readers.close()
    }
  })

  it('reads blocks got together from the store with one pread per joined run', async () => {
    const store = createBlockstore({ path: await tempDir(), codecThreads: 0 })
    await store.start()
    try {
      const blocks = Array.from({ length: 8 }, () => randomBytes(64 * KiB))
      for (const b of blocks) await store.put(cidOf(b), b, { compressionLevel: 0 })
      await store.sync()
      const readers = (store as unknown as { open: { readers: PackReaders } }).open.readers
      const before = readers.preads
      const got = await Promise.all(blocks.map(async b => await store.getEncoded(cidOf(b))))
      got.forEach((g, i) => { assert.ok(Buffer.from(g.bytes).equals(blocks[i]), `block ${i}`) })
      assert.equal(readers.preads - before, 1, '8 adjacent records of 64 KiB in one read')
    } finally {
      await store.stop()
    }
  })
})
