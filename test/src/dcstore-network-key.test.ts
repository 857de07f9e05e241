import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createNetwork, generateNetworkKey, parseMultiaddr } from '@cachecloud/network'
import { DCSTORE_CLI, launch, run, type Proc } from './personal-procs.js'

// Issue 12: a swarm with a network key could not reach its store, which listened without one.
describe('dcstore serve joins a private network (network key, allow-list)', () => {
  let dir: string
  let serve: Proc | undefined
  after(async () => {
    serve?.child.kill('SIGTERM')
    await serve?.exited
    await rm(dir, { recursive: true, force: true })
  })

  it('with --network-key only members connect; with --allow-peer only the listed peers', async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-pnet-'))
    const keyFile = join(dir, 'discovery.key')
    await run(DCSTORE_CLI, ['keygen', '--out', keyFile])
    const swarmKey = generateNetworkKey()
    const swarmKeyFile = join(dir, 'swarm.key')
    await writeFile(swarmKeyFile, swarmKey, { mode: 0o600 })
    const member = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: [], networkKey: new TextEncoder().encode(swarmKey) })
    const stranger = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: [] })
    try {
      serve = launch(DCSTORE_CLI, ['--data', join(dir, 'store'), '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0',
        '--network-key', swarmKeyFile, '--allow-peer', member.peerId.toString()])
      const ready = await serve.waitFor(e => e.peerId !== undefined)
      const first = (ready.addrs as string[])[0] as string
      const addr = parseMultiaddr(first.includes('/p2p/') ? first : `${first}/p2p/${String(ready.peerId)}`)
      const connection = await member.dial(addr, { signal: AbortSignal.timeout(10_000) })
      assert.equal(connection.remotePeer.toString(), ready.peerId, 'a member of the private network reaches the store')
      await assert.rejects(stranger.dial(addr, { signal: AbortSignal.timeout(5_000) }), 'a host without the network key does not')
    } finally {
      await Promise.all([member.stop(), stranger.stop()])
    }
  })
})
