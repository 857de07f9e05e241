import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createNetwork, InvalidMultiaddrError, InvalidPeerKeyFileError, loadOrCreatePeerKey, parseMultiaddr } from '../src/index.js'

describe('network', () => {
  it('keeps the peer identity across restarts and refuses a corrupt key file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-network-'))
    const first = await loadOrCreatePeerKey(join(dir, 'peer.key'))
    const again = await loadOrCreatePeerKey(join(dir, 'peer.key'))
    assert.equal(peerIdFromPrivateKey(first).toString(), peerIdFromPrivateKey(again).toString())
    await writeFile(join(dir, 'bad.key'), 'not a key')
    await assert.rejects(loadOrCreatePeerKey(join(dir, 'bad.key')), InvalidPeerKeyFileError)
  })

  it('connects two hosts over TCP with TLS and yamux', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cc-network-'))
    const a = await createNetwork({ privateKey: await loadOrCreatePeerKey(join(dir, 'a.key')), listen: ['/ip4/127.0.0.1/tcp/0'] })
    const b = await createNetwork({ privateKey: await loadOrCreatePeerKey(join(dir, 'b.key')), listen: ['/ip4/127.0.0.1/tcp/0'] })
    try {
      const connection = await b.dial(a.getMultiaddrs()[0])
      assert.equal(connection.remotePeer.toString(), a.peerId.toString())
      assert.equal(connection.encryption, '/tls/1.0.0')
      assert.equal(connection.multiplexer, '/yamux/1.0.0')
    } finally {
      await Promise.all([a.stop(), b.stop()])
    }
  })

  it('explains a bad multiaddr in one line', () => {
    assert.throws(() => parseMultiaddr('127.0.0.1:4001'), InvalidMultiaddrError)
  })
})
