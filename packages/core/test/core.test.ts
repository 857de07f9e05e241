import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { bytesMatchCid, cidOf, cidOfDigest, DAG_CBOR_CODEC, InvalidCidError, InvalidVersionRefError, parseCid, parseVersionRef, RAW_CODEC } from '../src/index.js'

describe('core', () => {
  it('names blocks by raw CIDv1 sha2-256 and verifies bytes against them', () => {
    const bytes = new TextEncoder().encode('hello')
    const cid = cidOf(bytes)
    assert.equal(cid.version, 1)
    assert.equal(cid.code, RAW_CODEC)
    assert.equal(cid.toString(), 'bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq')
    assert.equal(bytesMatchCid(cid, bytes), true)
    assert.equal(bytesMatchCid(cid, new TextEncoder().encode('hellp')), false)
    assert.equal(cidOf(bytes, DAG_CBOR_CODEC).code, DAG_CBOR_CODEC)
    assert.equal(parseCid(cid.toString()).equals(cid), true)
    assert.throws(() => parseCid('nope'), InvalidCidError)
  })

  it('a CID made from a digest is the CID multiformats makes, for one-byte and longer codecs', () => {
    const bytes = new TextEncoder().encode('hello')
    const digest = createHash('sha256').update(bytes).digest()
    for (const codec of [RAW_CODEC, DAG_CBOR_CODEC, 0x0300]) {
      const made = cidOfDigest(digest, codec)
      const theirs = CID.createV1(codec, Digest.create(0x12, digest))
      assert.equal(made.toString(), theirs.toString())
      assert.ok(made.equals(theirs))
      assert.deepEqual(made.bytes, theirs.bytes)
      assert.deepEqual([...made.multihash.digest], [...digest])
      assert.deepEqual([...made.multihash.bytes], [...theirs.multihash.bytes])
    }
    assert.equal(cidOfDigest(digest).toString(), cidOf(bytes).toString())
    assert.throws(() => cidOfDigest(digest.subarray(1)), InvalidCidError)
  })

  it('parses NAME@VERSION and rejects what cannot be a file name', () => {
    assert.deepEqual(parseVersionRef('win11@2026.11'), { name: 'win11', version: '2026.11' })
    for (const bad of ['win11', '@v1', 'win11@', '../x@v1', 'a@b/c', 'a b@1']) {
      assert.throws(() => parseVersionRef(bad), InvalidVersionRefError, bad)
    }
  })
})

describe('formatBytes', () => {
  it('rounds fractions of a byte (rates, averages) and keeps one decimal in larger units', async () => {
    const { formatBytes, formatRate } = await import('../src/units.js')
    assert.equal(formatBytes(575.9544212725189), '576 B')
    assert.equal(formatRate(66.66666666666667), '67 B/s')
    assert.equal(formatBytes(1536), '1.5 KiB')
    assert.equal(formatBytes(Number.NaN), '0 B')
  })
})
