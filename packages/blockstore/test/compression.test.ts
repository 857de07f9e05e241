import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { CODEC_RAW, CODEC_ZSTD, encodeBlock } from '@cachecloud/codec'
import { createBlockstore, type Blockstore, type BlockstoreInit } from '../src/index.js'
import { allRecords, tempDir } from './helpers.js'

async function started (path: string, init: Partial<BlockstoreInit> = {}): Promise<Blockstore> {
  const store = createBlockstore({ ...init, path })
  await store.start()
  return store
}

/** 256 KiB of text-like bytes: compressible, not trivially. */
function textBlock (seed: number, length = 256 * 1024): Buffer {
  const words = ['block', 'image', 'kernel', 'module', 'swarm', 'version', 'library', 'package', 'config', 'daemon']
  const parts: string[] = []
  let x = seed
  let n = 0
  while (n < length) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    const w = `${words[x % words.length] as string}${x % 97} `
    parts.push(w)
    n += w.length
  }
  return Buffer.from(parts.join('').slice(0, length))
}

describe('block store: blocks kept compressed at rest', () => {
  it('stores a compressible block as one zstd record, reads it back exactly, and counts raw and stored bytes', async () => {
    const root = await tempDir()
    const store = await started(root)
    const text = textBlock(1)
    const random = randomBytes(256 * 1024)
    const a = await store.putBytes(text)
    const b = await store.putBytes(random)
    await store.sync()
    const records = await allRecords(root)
    assert.deepEqual(records.map(r => r.codec), [CODEC_ZSTD, CODEC_RAW])
    assert.ok((records[0]?.length ?? Infinity) < text.byteLength / 2, `text stored in ${records[0]?.length} bytes`)
    assert.equal(records[1]?.length, random.byteLength, 'random data stays raw')
    assert.deepEqual(Buffer.from(await store.get(a.cid)), text)
    assert.deepEqual(Buffer.from(await store.get(b.cid)), random)
    const stats = await store.stats()
    assert.equal(stats.bytes, text.byteLength + random.byteLength)
    assert.equal(stats.storedBytes, (records[0]?.length ?? 0) + random.byteLength)
    const encoded = await store.getEncoded(a.cid)
    assert.equal(encoded.codec, CODEC_ZSTD)
    assert.equal(encoded.length, text.byteLength)
    await store.stop()
    const again = await started(root)
    assert.deepEqual(Buffer.from(await again.get(a.cid)), text, 'and after a restart (index log entries of format 3)')
    await again.stop()
  })

  it('compressionLevel 0 keeps every block raw', async () => {
    const root = await tempDir()
    const store = await started(root, { compressionLevel: 0 })
    await store.putBytes(textBlock(2))
    await store.sync()
    assert.deepEqual((await allRecords(root)).map(r => r.codec), [CODEC_RAW])
    await store.stop()
  })

  it('a put may choose its own level: 0 keeps it raw, a high level stores fewer bytes', async () => {
    const root = await tempDir()
    const store = await started(root)
    await store.putBytes(textBlock(20), { compressionLevel: 0 })
    await store.putBytes(textBlock(21), { compressionLevel: 1 })
    await store.putBytes(textBlock(21).reverse(), { compressionLevel: 19 })
    await store.sync()
    const [raw, fast, high] = await allRecords(root)
    assert.equal(raw?.codec, CODEC_RAW)
    assert.ok((high?.length ?? Infinity) < (fast?.length ?? 0), `level 19: ${high?.length} bytes, level 1: ${fast?.length}`)
    await store.stop()
  })

  // the check runs on a codec thread for large frames (the default), on the calling thread with codecThreads 0
  for (const [codecThreads, where] of [[undefined, 'on a codec thread'], [0, 'on the calling thread']] as const) {
    it(`putEncoded stores a peer's frame as it is, after decoding and hashing it ${where}`, async () => {
      const store = await started(await tempDir(), { codecThreads })
      const text = textBlock(3)
      const cid = cidOf(text)
      const frame = encodeBlock(text)
      assert.equal(await store.putEncoded(cid, frame), true)
      const back = await store.getEncoded(cid)
      assert.deepEqual(Buffer.from(back.bytes), Buffer.from(frame.bytes), 'served as received, not recompressed')
      assert.deepEqual(Buffer.from(await store.get(cid)), text)
      await store.stop()
    })

    it(`verify reads every record, decodes and hashes it ${where}, and names exactly the damaged ones`, async () => {
      const root = await tempDir()
      let store = await started(root, { codecThreads })
      const blocks = [textBlock(20), randomBytes(256 * 1024), textBlock(21), randomBytes(40 * 1024), textBlock(22, 8 * 1024), textBlock(23)]
      const cids = []
      for (const b of blocks) cids.push((await store.putBytes(b)).cid)
      await store.sync()
      const healthy = await store.verify()
      assert.deepEqual(
        { blocks: healthy.blocks, corrupt: healthy.corrupt, rawBytes: healthy.rawBytes },
        { blocks: blocks.length, corrupt: [], rawBytes: blocks.reduce((n, b) => n + b.byteLength, 0) }
      )
      await store.stop()
      // one byte of a zstd record's data and one of a raw record's data flipped on disk
      const records = await allRecords(root)
      const damaged = [cids[2], cids[3]].map(cid => records.find(r => r.cid.equals(cid)) as (typeof records)[number])
      for (const r of damaged) {
        const bytes = await readFile(r.file)
        bytes[r.dataOffset + Math.floor(r.length / 2)] ^= 0x40
        await writeFile(r.file, bytes)
      }
      assert.deepEqual(damaged.map(r => r.codec), [CODEC_ZSTD, CODEC_RAW])
      store = await started(root, { codecThreads })
      const progress: Array<{ done: number, total: number }> = []
      const report = await store.verify({ onProgress: e => { progress.push({ done: e.done, total: e.total }) } })
      assert.deepEqual(report.corrupt.map(c => c.toString()).sort(), [cids[2], cids[3]].map(c => String(c)).sort())
      assert.equal(report.blocks, blocks.length - 2)
      const last = progress.at(-1)
      assert.ok(last !== undefined && last.done === last.total, 'progress ends at the total')
      await store.stop()
    })

    it(`putEncoded refuses a frame that inflates beyond its length, a truncated frame, another block's frame and garbage, and stores nothing ${where}`, async () => {
      const store = await started(await tempDir(), { codecThreads })
      const text = textBlock(4)
      const cid = cidOf(text)
      const frame = encodeBlock(text)
      const other = encodeBlock(textBlock(5))
      const attempts = [
        { ...frame, length: text.byteLength - 1 }, // decodes to more than it claims
        { ...frame, bytes: frame.bytes.subarray(0, frame.bytes.byteLength - 7) },
        other,
        { codec: CODEC_ZSTD, bytes: randomBytes(5000), length: text.byteLength } as const,
        { codec: CODEC_RAW, bytes: randomBytes(text.byteLength), length: text.byteLength } as const
      ]
      for (const block of attempts) await assert.rejects(store.putEncoded(cid, block), { code: 'ERR_BLOCK_CORRUPT' })
      assert.deepEqual(await store.stats(), { blocks: 0, bytes: 0, storedBytes: 0 })
      await store.stop()
    })
  }

  it('putEncoded moves a detachable buffer to the codec thread instead of copying it, and leaves the caller\'s bytes alone otherwise', async () => {
    const store = await started(await tempDir())
    try {
      // partly random: the frame is large enough (>= 32 KiB) to be checked on a codec thread
      const block = (seed: number): Buffer => Buffer.concat([textBlock(seed, 128 * 1024), randomBytes(64 * 1024)])
      const kept = block(30)
      const keptFrame = encodeBlock(kept)
      assert.equal(keptFrame.codec, CODEC_ZSTD)
      assert.ok(keptFrame.bytes.byteLength >= 32 * 1024)
      const keptBytes = Uint8Array.from(keptFrame.bytes)
      assert.equal(await store.putEncoded(cidOf(kept), { ...keptFrame, bytes: keptBytes }), true)
      assert.deepEqual(Buffer.from(keptBytes), Buffer.from(keptFrame.bytes), 'not detachable: untouched')
      const moved = block(31)
      const movedBytes = Uint8Array.from(encodeBlock(moved).bytes)
      assert.equal(await store.putEncoded(cidOf(moved), { codec: CODEC_ZSTD, bytes: movedBytes, length: moved.byteLength }, { detachable: true }), true)
      assert.equal(movedBytes.byteLength, 0, 'moved to the codec thread (detached here)')
      assert.deepEqual(Buffer.from(await store.get(cidOf(moved))), moved)
      assert.deepEqual(Buffer.from(await store.get(cidOf(kept))), kept)
    } finally {
      await store.stop()
    }
  })

  it('putEncoded of a view into a larger buffer sends the codec thread only the block, leaving the buffer whole', async () => {
    const store = await started(await tempDir())
    try {
      const raw = Buffer.concat([textBlock(32, 128 * 1024), randomBytes(64 * 1024)])
      const frame = encodeBlock(raw).bytes
      // the frame in the middle of 1 MiB of other bytes, as a received chunk or a joined read holds it
      const around = randomBytes(1024 * 1024)
      around.set(frame, 4096)
      const copy = Buffer.from(around)
      const view = around.subarray(4096, 4096 + frame.byteLength)
      assert.equal(await store.putEncoded(cidOf(raw), { codec: CODEC_ZSTD, bytes: view, length: raw.byteLength }, { detachable: true }), true)
      assert.equal(around.byteLength, 1024 * 1024, 'the shared buffer is not moved away')
      assert.ok(around.equals(copy), 'nor changed')
      assert.deepEqual(Buffer.from(await store.get(cidOf(raw))), raw)
    } finally {
      await store.stop()
    }
  })

  it('putEncoded hands the bytes back through release once written or found held, moving a whole buffer shorter views included', async () => {
    const store = await started(await tempDir())
    try {
      const raw = Buffer.concat([textBlock(33, 128 * 1024), randomBytes(64 * 1024)])
      const frame = encodeBlock(raw).bytes
      const buffer = new ArrayBuffer(raw.byteLength)
      const view = new Uint8Array(buffer, 0, frame.byteLength)
      view.set(frame)
      const released: Uint8Array[] = []
      const release = (bytes: Uint8Array): void => { released.push(bytes) }
      assert.equal(
        await store.putEncoded(cidOf(raw), { codec: CODEC_ZSTD, bytes: view, length: raw.byteLength }, { detachable: true, wholeBuffer: true, release }),
        true
      )
      assert.equal(buffer.byteLength, 0, 'the whole buffer went to the codec thread')
      assert.equal(released.length, 1)
      assert.equal(released[0].buffer.byteLength, raw.byteLength, 'and came back, the same size')
      assert.deepEqual(Buffer.from(released[0]), Buffer.from(frame))
      assert.deepEqual(Buffer.from(await store.get(cidOf(raw))), raw)
      const again = Uint8Array.from(frame)
      assert.equal(await store.putEncoded(cidOf(raw), { codec: CODEC_ZSTD, bytes: again, length: raw.byteLength }, { detachable: true, release }), false)
      assert.equal(released[1], again, 'already held: handed back at once')
      const bad = Uint8Array.from(frame)
      bad[100] ^= 0xff
      const other = Buffer.concat([textBlock(34, 128 * 1024), randomBytes(64 * 1024)])
      await assert.rejects(store.putEncoded(cidOf(other), { codec: CODEC_ZSTD, bytes: bad, length: other.byteLength }, { detachable: true, release }), { code: 'ERR_BLOCK_CORRUPT' })
      assert.equal(released.length, 2, 'not released when the put fails')
    } finally {
      await store.stop()
    }
  })

  it('a damaged compressed record is found by its crc32, never served, and dropped', async () => {
    const root = await tempDir()
    const store = await started(root)
    const { cid } = await store.putBytes(textBlock(6))
    await store.stop()
    const [record] = await allRecords(root)
    assert.ok(record !== undefined)
    const pack = await readFile(record.file)
    pack[record.dataOffset + 100] = (pack[record.dataOffset + 100] as number) ^ 0x01
    await writeFile(record.file, pack)
    const again = await started(root)
    await assert.rejects(again.getEncoded(cid), { code: 'ERR_BLOCK_CORRUPT' })
    assert.equal(await again.has(cid), false)
    await again.stop()
  })

  it('putBytes with the digests its caller computed: the CID from their SHA-256, their crc32 as a raw record\'s check only', async () => {
    const root = await tempDir()
    const store = await started(root)
    const random = randomBytes(8000)
    const text = textBlock(9, 8000)
    const digests = (bytes: Uint8Array): { sha256: Uint8Array, crc32: number } => ({ sha256: createHash('sha256').update(bytes).digest(), crc32: crc32(bytes) })
    const raw = await store.putBytes(random, { compressionLevel: 0, computed: digests(random) })
    assert.equal(raw.cid.toString(), cidOf(random).toString())
    assert.deepEqual(Buffer.from(await store.get(raw.cid)), random)
    // compressed, the record's crc32 is of the frame: the caller's (of the raw bytes, here wrong on purpose) is not used
    const packed = await store.putBytes(text, { computed: { ...digests(text), crc32: 0 } })
    assert.equal((await store.getEncoded(packed.cid)).codec, CODEC_ZSTD)
    // kept raw, the caller's crc32 is the record's: a wrong one makes the record unreadable (the caller answers for it)
    const other = randomBytes(8000)
    const wrong = await store.putBytes(other, { compressionLevel: 0, computed: { ...digests(other), crc32: (crc32(other) ^ 1) >>> 0 } })
    await store.stop()
    const again = await started(root)
    assert.deepEqual(Buffer.from(await again.get(raw.cid)), random)
    assert.deepEqual(Buffer.from(await again.get(packed.cid)), text)
    await assert.rejects(again.getEncoded(wrong.cid), { code: 'ERR_BLOCK_CORRUPT' })
    await again.stop()
  })

  it('opens a format-2 store: its raw records are read, and the store moves to format 3', async () => {
    const root = await tempDir()
    await mkdir(join(root, 'packs'), { recursive: true })
    const blocks = [randomBytes(3000), textBlock(7, 10_000)]
    const records = blocks.map(bytes => {
      const cid = cidOf(bytes).bytes
      const header = Buffer.alloc(9)
      header.write('CCBK', 0, 'latin1')
      header[4] = cid.byteLength
      header.writeUInt32BE(bytes.byteLength, 5)
      return Buffer.concat([header, cid, bytes])
    })
    await writeFile(join(root, 'VERSION'), 'cachecloud-blockstore 2\n')
    await writeFile(join(root, 'packs', '00000001.pack'), Buffer.concat([Buffer.from('CCPACK2\n', 'latin1'), ...records]))
    await writeFile(join(root, 'index.log'), Buffer.alloc(0))
    const store = await started(root)
    for (const bytes of blocks) assert.deepEqual(Buffer.from(await store.get(cidOf(bytes))), bytes)
    assert.equal(await readFile(join(root, 'VERSION'), 'utf8'), 'cachecloud-blockstore 3\n')
    const added = await store.putBytes(textBlock(8))
    await store.stop()
    const again = await started(root)
    for (const bytes of blocks) assert.deepEqual(Buffer.from(await again.get(cidOf(bytes))), bytes)
    assert.equal((await again.get(added.cid)).byteLength, 256 * 1024)
    await again.stop()
  })
})
