import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { decodeRecord, deriveSigningKey, encodeRecord, generateX25519KeyPair, signRecord, verifyRecord } from '../src/index.js'
import { Crafter } from './craft.js'

describe('snapshot record signatures', () => {
  const pair = generateX25519KeyPair()
  const discovery = generateX25519KeyPair()
  const c = new Crafter()
  const root = c.dirBlock([c.file('a.txt', 'a')])
  const { record } = c.record({ user: 'alice', node: '12D3KooWnode', discoveryPublicKey: discovery.publicKey, root, files: 1 })

  it('every machine with the key pair derives the same key; a signed record survives encoding and verifies', () => {
    const key = deriveSigningKey(pair.privateKey, 'alice')
    assert.deepEqual(deriveSigningKey(pair.privateKey, 'alice').publicKey, key.publicKey)
    assert.notDeepEqual(deriveSigningKey(pair.privateKey, 'bob').publicKey, key.publicKey)
    const signed = decodeRecord(encodeRecord(signRecord(record, key)).bytes)
    assert.equal(verifyRecord(signed, key.publicKey), true)
  })

  it('an unsigned record, one signed by another key, and an edited one do not verify', () => {
    const key = deriveSigningKey(pair.privateKey, 'alice')
    assert.equal(verifyRecord(record, key.publicKey), false)
    assert.equal(verifyRecord(signRecord(record, deriveSigningKey(generateX25519KeyPair().privateKey, 'alice')), key.publicKey), false)
    const signed = signRecord(record, key)
    assert.equal(verifyRecord({ ...signed, files: 2 }, key.publicKey), false)
    assert.equal(verifyRecord({ ...signed, root: c.dirBlock([]) }, key.publicKey), false)
  })

  it('a record without a signature (written before signing) still decodes, with its CID unchanged', () => {
    const encoded = encodeRecord(record)
    assert.equal(decodeRecord(encoded.bytes).sig, undefined)
    assert.deepEqual(encodeRecord(decodeRecord(encoded.bytes)).cid, encoded.cid)
  })
})
