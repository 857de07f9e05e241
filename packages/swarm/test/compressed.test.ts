import './helpers.js'
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { generatePublisherKey, UntrustedPublisherError } from '@cachecloud/manifest'
import { addVersion, BLOCK, connectAll, holdsAll, makeManifest, startSwarmNode, type SwarmNode } from './helpers.js'

/** Text-like 64 KiB blocks, compressible about 3x. */
function textImage (count: number, seed: number): Uint8Array[] {
  return Array.from({ length: count }, (_v, b) => {
    let x = seed * 104729 + b
    let text = ''
    while (text.length < BLOCK) {
      x = (x * 1103515245 + 12345) & 0x7fffffff
      text += `usr/lib/${x % 3000}/module-${(x >> 10) % 500}.ko `
    }
    return new TextEncoder().encode(text.slice(0, BLOCK))
  })
}

describe('swarm with compressed blocks', () => {
  const nodes: SwarmNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  it('a version offered only under an untrusted publisher\'s manifest is refused as untrusted (exit 6), not as unavailable', async () => {
    const blocks = textImage(4, 9)
    const dc = await startSwarmNode({ site: 'dc' })
    const branch = await startSwarmNode({ site: 'paris' })
    nodes.push(dc, branch)
    await addVersion(dc, makeManifest('u1', blocks, 'disk', generatePublisherKey()), blocks)
    await connectAll([dc, branch])
    await assert.rejects(branch.swarm.plan({ name: 'disk', version: 'u1' }), (err: Error) => err instanceof UntrustedPublisherError && err.message.includes('disk@u1'))
  })

  it('plan counts the compressed bytes that will cross the WAN, and the pull moves that many', async () => {
    const blocks = textImage(40, 3)
    const manifest = makeManifest('z1', blocks)
    const dc = await startSwarmNode({ site: 'dc' })
    const branch = await startSwarmNode({ site: 'paris' })
    nodes.push(dc, branch)
    await addVersion(dc, manifest, blocks)
    await connectAll([dc, branch])
    const stored = (await dc.blockstore.stats()).storedBytes
    const plan = await branch.swarm.plan({ name: 'disk', version: 'z1' })
    assert.equal(plan.wanRawBytes, blocks.length * BLOCK)
    assert.ok(plan.wanBytes < plan.wanRawBytes / 2, `plan: ${plan.wanBytes} of ${plan.wanRawBytes} raw bytes over the WAN`)
    const manifestBytes = stored - plan.wanBytes
    assert.ok(manifestBytes > 0 && manifestBytes < 8 * 1024, 'the plan counts exactly the blocks\' stored bytes (the rest of the store is the manifest)')
    const result = await branch.swarm.pull({ name: 'disk', version: 'z1' }, { idleTimeoutMs: 20_000 })
    assert.ok(await holdsAll(branch, blocks))
    assert.equal(result.wanBytes, blocks.length * BLOCK, 'block bytes stored')
    assert.ok(result.wanWireBytes >= plan.wanBytes && result.wanWireBytes < plan.wanBytes * 1.05 + 4096, `wire ${result.wanWireBytes} vs plan ${plan.wanBytes}`)
  })
})
