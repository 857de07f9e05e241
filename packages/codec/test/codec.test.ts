import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { crc32 } from 'node:zlib'
import { sha256Digest } from '@cachecloud/core'
import { BlockDecodeError, checkBlock, CODEC_RAW, CODEC_ZSTD, createCodecPool, decodeBlock, encodeBlock, UnknownCodecError, type Codec } from '../src/index.js'

const text = new TextEncoder().encode('the quick brown fox jumps over the lazy dog '.repeat(6000))

describe('block codec', () => {
  it('compresses what shrinks and round-trips it exactly', () => {
    const block = encodeBlock(text)
    assert.equal(block.codec, CODEC_ZSTD)
    assert.equal(block.length, text.byteLength)
    assert.ok(block.bytes.byteLength < text.byteLength / 10)
    assert.deepEqual(Buffer.from(decodeBlock(block, text.byteLength)), Buffer.from(text))
  })

  it('keeps random bytes raw, without a copy', () => {
    const raw = randomBytes(256 * 1024)
    const block = encodeBlock(raw)
    assert.equal(block.codec, CODEC_RAW)
    assert.equal(block.bytes, raw)
  })

  it('level 0 never compresses', () => {
    assert.equal(encodeBlock(text, { level: 0 }).codec, CODEC_RAW)
  })

  it('refuses, before inflating, a frame larger than the bound or than its stated length', () => {
    const bomb = encodeBlock(new Uint8Array(16 * 1024 * 1024))
    assert.ok(bomb.bytes.byteLength < 4096)
    assert.throws(() => decodeBlock(bomb, 256 * 1024), BlockDecodeError)
    assert.throws(() => decodeBlock({ ...bomb, length: 256 * 1024 }, 256 * 1024), BlockDecodeError)
  })

  it('refuses truncated frames, trailing bytes, garbage and unknown codecs with typed errors', () => {
    const block = encodeBlock(text)
    const cases = [
      { ...block, bytes: block.bytes.subarray(0, block.bytes.byteLength - 3) },
      { ...block, bytes: Buffer.concat([block.bytes, Buffer.from([1, 2, 3])]) },
      { ...block, bytes: randomBytes(500) },
      { codec: CODEC_RAW, bytes: text.subarray(1), length: text.byteLength } as const
    ]
    for (const bad of cases) assert.throws(() => decodeBlock(bad, text.byteLength), (err: Error) => err instanceof BlockDecodeError && (err as BlockDecodeError).code === 'ERR_BLOCK_DECODE')
    assert.throws(() => decodeBlock({ codec: 9 as Codec, bytes: text, length: text.byteLength }, text.byteLength), UnknownCodecError)
  })

  it('decodes into a caller\'s buffer when given one', () => {
    const block = encodeBlock(text)
    const into = new Uint8Array(text.byteLength + 10)
    const raw = decodeBlock(block, text.byteLength, into)
    assert.equal(raw.buffer, into.buffer)
    assert.deepEqual(Buffer.from(raw), Buffer.from(text))
    assert.throws(() => decodeBlock(block, text.byteLength, new Uint8Array(100)), RangeError)
  })

  it('checks a received block against its digest, here and on a codec thread, with the crc32 of its stored bytes', async () => {
    const pool = createCodecPool({ threads: 1 })
    try {
      const block = encodeBlock(text)
      const digest = sha256Digest(text)
      const random = randomBytes(64 * 1024)
      const good = [block, { codec: CODEC_RAW, bytes: random, length: random.byteLength } as const]
      const digests = [digest, sha256Digest(random)]
      for (const [i, b] of good.entries()) {
        for (const checked of [checkBlock(b, digests[i] as Uint8Array, 1 << 20), await pool.check(b, digests[i] as Uint8Array, 1 << 20)]) {
          assert.ok('crc' in checked, JSON.stringify(checked))
          assert.equal(checked.crc, crc32(b.bytes))
          assert.deepEqual(Buffer.from(checked.block.bytes), Buffer.from(b.bytes))
        }
      }
      const bad = [
        { block, digest: sha256Digest(random), problem: /do not hash/ },
        { block: { ...block, bytes: block.bytes.subarray(0, block.bytes.byteLength - 7) }, digest, problem: /does not decode/ },
        { block: { ...block, length: text.byteLength - 1 }, digest, problem: /does not decode/ },
        { block: encodeBlock(new Uint8Array(4 << 20)), digest, problem: /exceeds the bound/ }
      ]
      for (const { block: b, digest: d, problem } of bad) {
        for (const checked of [checkBlock(b, d, 1 << 20), await pool.check(b, d, 1 << 20)]) {
          assert.ok('problem' in checked)
          assert.match(checked.problem, problem)
        }
      }
    } finally {
      await pool.close()
    }
  })

  it('answers jobs asked for together, in one batch, each with its own result', async () => {
    const pool = createCodecPool({ threads: 2 })
    try {
      // one shared buffer seen by several jobs (copied, never moved), blocks of their own moved, bad ones between them
      const shared = randomBytes(96 * 1024)
      const views = [shared.subarray(0, 32 * 1024), shared.subarray(32 * 1024, 64 * 1024), shared.subarray(64 * 1024)]
      const jobs = Array.from({ length: 60 }, (_, i) => {
        if (i % 3 === 0) {
          const view = views[i % views.length] as Uint8Array
          return {
            block: { codec: CODEC_RAW, bytes: view, length: view.byteLength } as const,
            digest: sha256Digest(view),
            move: false,
            ok: true,
            crc: crc32(view)
          }
        }
        const own = new Uint8Array(encodeBlock(Buffer.concat([text, Buffer.from(String(i))])).bytes)
        const raw = Buffer.concat([text, Buffer.from(String(i))])
        const digest = i % 3 === 1 ? sha256Digest(raw) : sha256Digest(random32k())
        return { block: { codec: CODEC_ZSTD, bytes: own, length: raw.byteLength } as const, digest, move: true, ok: i % 3 === 1, crc: crc32(own) }
      })
      const answers = await Promise.all(jobs.map(async j => await pool.check(j.block, j.digest, 1 << 20, j.move)))
      for (const [i, checked] of answers.entries()) {
        const job = jobs[i] as (typeof jobs)[number]
        assert.equal('crc' in checked, job.ok, `job ${i}`)
        if ('crc' in checked) assert.equal(checked.crc, job.crc, `job ${i}`)
      }
      assert.equal(shared.byteLength, 96 * 1024, 'a buffer shared by several jobs stays with its owner')
    } finally {
      await pool.close()
    }
  })
})

function random32k (): Uint8Array {
  return randomBytes(32 * 1024)
}
