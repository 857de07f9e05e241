import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import {
  DecryptionFailedError, deriveUserKeys, formatX25519Key, generateUserKey, generateX25519KeyPair, openBlock, parseX25519Key,
  sealBlock, unwrapUserKey, wrapUserKey, xopen, xseal
} from '../src/index.js'

describe('personal crypto', () => {
  it('xseal is XChaCha20-Poly1305: noble opens it and it opens noble', () => {
    for (const size of [0, 1, 63, 64, 65, 1000, 100_000]) {
      const key = randomBytes(32); const nonce = randomBytes(24); const msg = randomBytes(size)
      const sealed = xseal(key, nonce, msg)
      assert.deepEqual(Buffer.from(sealed.subarray(24)), Buffer.from(xchacha20poly1305(key, nonce).encrypt(msg)))
      assert.deepEqual(Buffer.from(xopen(key, sealed)), msg)
    }
  })

  it('convergent within a user, unrelated across users, tamper-evident', () => {
    const a = deriveUserKeys(generateUserKey()); const b = deriveUserKeys(generateUserKey())
    const plain = Buffer.from('the same chunk of a private file')
    assert.deepEqual(sealBlock(a, plain), sealBlock(a, plain))
    assert.notDeepEqual(Buffer.from(sealBlock(a, plain)), Buffer.from(sealBlock(b, plain)))
    assert.notDeepEqual(Buffer.from(sealBlock(a, plain)), Buffer.from(sealBlock(a, Buffer.from('another chunk of a private file!'))))
    const sealed = sealBlock(a, plain)
    assert.deepEqual(Buffer.from(openBlock(a, sealed)), plain)
    assert.throws(() => openBlock(b, sealed), DecryptionFailedError)
    sealed[30] ^= 1
    assert.throws(() => openBlock(a, sealed), DecryptionFailedError)
  })

  it('the user key is wrapped for a recipient and opens only with its private key', () => {
    const discovery = generateX25519KeyPair(); const other = generateX25519KeyPair()
    const userKey = generateUserKey()
    const wrapped = wrapUserKey(userKey, discovery.publicKey)
    assert.deepEqual(unwrapUserKey(wrapped, discovery.privateKey), userKey)
    assert.throws(() => unwrapUserKey(wrapped, other.privateKey), DecryptionFailedError)
    assert.deepEqual(parseX25519Key(formatX25519Key(discovery.publicKey)), discovery.publicKey)
  })
})
