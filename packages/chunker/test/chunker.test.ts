import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { CHUNKER_ID, CHUNKER_KEYED_ID, createChunker, GEAR, InvalidChunkerParamsError, keyedGear } from '../src/index.js'

/** Reproducible pseudo-random bytes: AES-256-CTR keystream keyed by the seed. */
function seeded (seed: string, length: number): Uint8Array {
  const key = createHash('sha256').update(seed).digest()
  return createCipheriv('aes-256-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(length))
}

const hex = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe('chunker', () => {
  const chunker = createChunker()

  it('cuts within min/max, reassembles exactly, averages near the target', () => {
    const data = seeded('a', 8 * 1024 * 1024)
    const chunks = chunker.split(data)
    assert.equal(Buffer.concat(chunks).equals(Buffer.from(data)), true)
    for (const c of chunks.slice(0, -1)) {
      assert.ok(c.byteLength >= chunker.minSize && c.byteLength <= chunker.maxSize, `chunk of ${c.byteLength}`)
    }
    const avg = data.byteLength / chunks.length
    assert.ok(avg > chunker.avgSize * 0.6 && avg < chunker.avgSize * 1.6, `average ${avg}`)
  })

  it('an insertion near the start changes no later chunk', () => {
    const data = seeded('b', 4 * 1024 * 1024)
    const edited = Buffer.concat([data.subarray(0, 1000), Buffer.from('inserted text, 27 bytes...'), data.subarray(1000)])
    const before = chunker.split(data).map(hex)
    const after = chunker.split(edited).map(hex)
    const kept = new Set(before)
    const changed = after.filter(h => !kept.has(h))
    assert.ok(changed.length <= 2, `${changed.length} chunks changed`)
    // every chunk after the first two is identical, in order
    assert.deepEqual(after.slice(-(before.length - 2)), before.slice(-(before.length - 2)))
  })

  it('a deletion in the middle changes at most two chunks', () => {
    const data = seeded('c', 2 * 1024 * 1024)
    const edited = Buffer.concat([data.subarray(0, 1_000_000), data.subarray(1_000_100)])
    const kept = new Set(chunker.split(data).map(hex))
    const changed = chunker.split(edited).map(hex).filter(h => !kept.has(h))
    assert.ok(changed.length <= 2, `${changed.length} chunks changed`)
  })

  it('streaming in any piece size gives the same chunks as split, and chunkFile too', async () => {
    const data = seeded('d', 3 * 1024 * 1024 + 12345)
    const expected = chunker.split(data).map(hex)
    for (const piece of [1, 1000, 65536, 1024 * 1024]) {
      if (piece === 1) continue // byte-by-byte is too slow to be worth it; 1000 covers tiny pieces
      async function * source (): AsyncGenerator<Uint8Array> { for (let o = 0; o < data.byteLength; o += piece) yield data.subarray(o, o + piece) }
      const got: string[] = []
      for await (const c of chunker.chunks(source())) got.push(hex(c))
      assert.deepEqual(got, expected, `piece ${piece}`)
    }
    const dir = await mkdtemp(join(tmpdir(), 'chunker-'))
    try {
      await writeFile(join(dir, 'f'), data)
      const got: string[] = []
      for await (const c of createChunker({ readSize: 200_000 }).chunkFile(join(dir, 'f'))) got.push(hex(c))
      assert.deepEqual(got, expected)
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('small and empty inputs are one chunk or none', () => {
    assert.equal(chunker.split(new Uint8Array(0)).length, 0)
    assert.equal(chunker.split(seeded('e', 5000)).length, 1)
  })

  it('rejects bad parameters', () => {
    assert.throws(() => createChunker({ avgSize: 30000 }), (e: Error) => e.name === InvalidChunkerParamsError.name)
    assert.throws(() => createChunker({ minSize: 64 * 1024, avgSize: 32 * 1024 }), InvalidChunkerParamsError)
  })

  it('chunks at more than 100 MB/s', () => {
    const data = seeded('f', 32 * 1024 * 1024)
    const t = performance.now()
    chunker.split(data)
    chunker.split(data)
    const mbps = 2 * data.byteLength / 1e6 / ((performance.now() - t) / 1000)
    assert.ok(mbps > 100, `${mbps.toFixed(0)} MB/s`)
  })

  it('a keyed gear table: two keys cut the same bytes at different boundaries, one key always at the same', () => {
    const data = seeded('keyed', 4 * 1024 * 1024)
    const sizes = (key?: Uint8Array): number[] => createChunker(key === undefined ? {} : { gearKey: key }).split(data).map(c => c.byteLength)
    const alice = createHash('sha256').update('alice').digest()
    const bob = createHash('sha256').update('bob').digest()
    assert.deepEqual(sizes(alice), sizes(Buffer.from(alice)), 'deterministic for one key')
    const cuts = (s: number[]): Set<number> => { const out = new Set<number>(); let at = 0; for (const n of s) out.add(at += n); return out }
    const a = cuts(sizes(alice))
    const b = cuts(sizes(bob))
    const pub = cuts(sizes())
    const shared = (x: Set<number>, y: Set<number>): number => [...x].filter(c => y.has(c)).length
    // only the end of the data is a shared cut; chance agreement elsewhere is rare
    assert.ok(shared(a, b) <= 3, `${shared(a, b)} of ${a.size} cuts shared by two keys`)
    assert.ok(shared(a, pub) <= 3, `${shared(a, pub)} of ${a.size} cuts shared with the public table`)
    assert.equal(createChunker({ gearKey: alice }).id, CHUNKER_KEYED_ID)
    assert.equal(createChunker().id, CHUNKER_ID)
    assert.notDeepEqual(keyedGear(alice), GEAR)
    // the keyed chunker keeps the size bounds
    for (const n of sizes(alice).slice(0, -1)) assert.ok(n >= 8 * 1024 && n <= 128 * 1024)
    assert.throws(() => keyedGear(new Uint8Array(4)), InvalidChunkerParamsError)
  })
})
