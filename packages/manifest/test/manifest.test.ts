import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { cidOf } from '@cachecloud/core'
import { IMAGE_MANIFEST_FORMAT, type UnsignedImageManifest } from '../src/types.js'
import {
  createTrustStore, decodeManifest, decodeManifestFor, encodeManifest, formatPublicKey, generatePublisherKey,
  InvalidManifestError, InvalidPublicKeyError, InvalidPublisherKeyFileError, InvalidSignatureError, loadPublisherKey,
  parsePublicKey, savePublisherKey, signManifest, UntrustedPublisherError, verifyManifest
} from '../src/index.js'

function unsigned (): UnsignedImageManifest {
  return {
    format: IMAGE_MANIFEST_FORMAT,
    name: 'win11',
    version: 'v1',
    parent: null,
    size: 10,
    blockSize: 4,
    blocks: [cidOf(new Uint8Array([1, 2, 3, 4])), null, cidOf(new Uint8Array([9, 9]))],
    createdAt: new Date(0).toISOString(),
    publisher: new Uint8Array(32)
  }
}

describe('manifest', () => {
  it('round-trips a signed manifest through dag-cbor and verifies it', () => {
    const key = generatePublisherKey()
    const manifest = signManifest(unsigned(), key)
    const { bytes, cid } = encodeManifest(manifest)
    const decoded = decodeManifestFor(cid, bytes)
    assert.equal(decoded.blocks[1], null)
    assert.equal(decoded.blocks[0]?.toString(), manifest.blocks[0]?.toString())
    const trust = createTrustStore([formatPublicKey(key.publicKey)])
    assert.doesNotThrow(() => { verifyManifest(decoded, trust) })
  })

  it('refuses manifests from untrusted keys and tampered manifests', () => {
    const key = generatePublisherKey()
    const stranger = generatePublisherKey()
    const manifest = signManifest(unsigned(), stranger)
    assert.throws(() => { verifyManifest(manifest, createTrustStore([formatPublicKey(key.publicKey)])) }, UntrustedPublisherError)
    const trusted = signManifest(unsigned(), key)
    const tampered = { ...trusted, size: 11, blocks: [...trusted.blocks] }
    assert.throws(() => { verifyManifest(tampered, createTrustStore([formatPublicKey(key.publicKey)])) }, InvalidSignatureError)
  })

  it('rejects corrupt bytes with InvalidManifestError', () => {
    const { bytes, cid } = encodeManifest(signManifest(unsigned(), generatePublisherKey()))
    assert.throws(() => decodeManifest(bytes.subarray(0, bytes.byteLength - 5)), InvalidManifestError)
    assert.throws(() => decodeManifest(new Uint8Array([0xa1, 0x61, 0x61, 0x01])), InvalidManifestError)
    const flipped = new Uint8Array(bytes)
    flipped[flipped.byteLength - 1] ^= 1
    assert.throws(() => decodeManifestFor(cid, flipped), InvalidManifestError)
  })

  it('saves, loads and formats publisher keys', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-manifest-'))
    const key = generatePublisherKey()
    await savePublisherKey(join(dir, 'publisher.pem'), key)
    const loaded = await loadPublisherKey(join(dir, 'publisher.pem'))
    assert.deepEqual(loaded.publicKey, key.publicKey)
    assert.deepEqual(parsePublicKey(formatPublicKey(key.publicKey)), key.publicKey)
    assert.throws(() => parsePublicKey('rsa:abc'), InvalidPublicKeyError)
    await writeFile(join(dir, 'bad.pem'), 'garbage')
    await assert.rejects(loadPublisherKey(join(dir, 'bad.pem')), InvalidPublisherKeyFileError)
  })
})
