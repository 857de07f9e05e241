import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { cidOf, DAG_CBOR_CODEC } from '@cachecloud/core'
import { encodeDirBlockCbor, encodeEntryCbor, encodeFlatMap } from '../src/entry-cbor.js'
import { CHUNK_FORMAT, chunkInner, deriveUserKeys, generateUserKey, openChunk, sealBlock, sealChunk } from '../src/index.js'

// The directly written dag-cbor of a directory entry must be byte for byte
// what @ipld/dag-cbor writes: sealed entries (and so every directory block
// and CID of a snapshot) stay as they were.
describe('personal entry dag-cbor', () => {
  const ints = [
    0, 1, 23, 24, 255, 256, 65_535, 65_536, 0xffff_ffff, 0x1_0000_0000, 1_764_617_000_123, Number.MAX_SAFE_INTEGER,
    -1, -24, -25, -256, -257, -65_537, -1_764_617_000_123, Number.MIN_SAFE_INTEGER
  ]
  const names = ['', 'a', 'f123.dat', 'x'.repeat(23), 'x'.repeat(24), 'y'.repeat(255), 'y'.repeat(256), 'z'.repeat(70_000), 'naïve résumé.txt', '日本語のファイル', 'emoji 😀.png', 'tab\tnew\nline']

  it('gives the bytes of @ipld/dag-cbor for file, directory and symlink entries', () => {
    let n = 0
    for (const name of names) {
      for (const m of ints) {
        const size = Math.abs(ints[(n * 7) % ints.length])
        const file = { n: name, k: 0, p: 0o644, m, s: size, h: randomBytes(32), c: n % 300, ...(n % 2 === 0 ? { z: 2 } : {}) }
        const dir = { n: name, k: 1, p: 0o755, m }
        const link = { n: name, k: 2, p: 0o777, m, t: names[(n * 5) % names.length] }
        for (const e of [file, dir, link]) {
          assert.deepEqual(
            Buffer.from(encodeEntryCbor(e)),
            Buffer.from(dagCbor.encode(e)),
            JSON.stringify({ ...e, h: undefined, n: e.n.slice(0, 30) })
          )
        }
        n++
      }
    }
  })

  it('sorts keys as dag-cbor does (shorter first, then bytewise)', () => {
    const e = { zz: 1, b: 2, a: 3, aaa: 4, Z: 5 }
    assert.deepEqual(Buffer.from(encodeFlatMap(e)!), Buffer.from(dagCbor.encode(e)))
  })

  it('leaves anything but flat maps of strings, safe integers and bytes to @ipld/dag-cbor', () => {
    for (const e of [{ m: 1.5 }, { m: 2 ** 60 }, { n: 'lone \ud800' }, { l: [1, 2] }, { é: 1 }, { o: { a: 1 } }, { b: true }]) {
      assert.equal(encodeFlatMap(e as never), undefined)
    }
    assert.deepEqual(Buffer.from(encodeEntryCbor({ m: 1.5, n: 'x' })), Buffer.from(dagCbor.encode({ m: 1.5, n: 'x' })))
  })
})

describe('personal directory block dag-cbor', () => {
  it('gives the bytes of @ipld/dag-cbor for blocks of 0 to 300 links and entries, small and large', () => {
    const cids = Array.from({ length: 300 }, (_, i) => cidOf(randomBytes(i + 1), i % 3 === 0 ? DAG_CBOR_CODEC : undefined))
    for (const [links, entries, entryBytes, sealed] of [
      [0, 0, 10, 40],
      [1, 1, 23, 24],
      [5, 3, 255, 256],
      [24, 24, 200, 1000],
      [300, 256, 300, 70_000],
      [0, 2, 70_000, 100]
    ]) {
      const l = cids.slice(0, links)
      const e = Array.from({ length: entries }, (_, i) => randomBytes(entryBytes + i))
      const s = randomBytes(sealed)
      const block = encodeDirBlockCbor(l, e, s)
      assert.deepEqual(Buffer.from(block), Buffer.from(dagCbor.encode({ l, e, s })), `${links} links, ${entries} entries`)
      // a plain Uint8Array, as dag-cbor's (a Buffer compared unequal to the same bytes rebuilt from a delta in the store)
      assert.equal(Object.getPrototypeOf(block), Uint8Array.prototype)
    }
  })
})

describe('personal chunk sealed from its parts', () => {
  it('is the sealBlock of its format-2 plaintext, raw and compressed, and opens to the chunk', () => {
    const keys = deriveUserKeys(generateUserKey())
    for (const raw of [randomBytes(8192), Buffer.from('a compressible line\n'.repeat(500)), Buffer.alloc(0), randomBytes(63)]) {
      const sealed = sealChunk(keys, raw)
      assert.deepEqual(Buffer.from(sealed), Buffer.from(sealBlock(keys, chunkInner(raw))))
      assert.deepEqual(Buffer.from(openChunk(keys, sealed, CHUNK_FORMAT.flagged)), Buffer.from(raw))
    }
  })
})
