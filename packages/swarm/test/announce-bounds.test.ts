import './helpers.js'
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { pino } from 'pino'
import { generatePublisherKey } from '@cachecloud/manifest'
import { addVersion, connectAll, makeManifest, randomImage, startSwarmNode, waitFor, type SwarmNode } from './helpers.js'

describe('announcements a node acts on', () => {
  const nodes: SwarmNode[] = []
  after(async () => { await Promise.all(nodes.map(async n => { await n.stop() })) })

  it('an announced version offered only under an untrusted publisher is given up at once, not retried for good', async () => {
    const lines: string[] = []
    const logger = pino({ level: 'warn' }, { write: (line: string) => { lines.push(line) } })
    const rogue = await startSwarmNode({ site: 'x' })
    const sub = await startSwarmNode({ site: 'b', subscriptions: [{ name: 'win11' }], logger })
    nodes.push(rogue, sub)
    await connectAll([rogue, sub])
    await new Promise(resolve => setTimeout(resolve, 500)) // subscriptions propagate
    const blocks = randomImage(2)
    await addVersion(rogue, makeManifest('evil', blocks, 'win11', generatePublisherKey()), blocks)
    await rogue.swarm.publish({ name: 'win11', version: 'evil' })
    await waitFor(() => lines.some(l => l.includes('gave up pulling win11@evil')))
    await new Promise(resolve => setTimeout(resolve, 2500))
    assert.equal(lines.filter(l => l.includes('retrying in')).length, 0, 'no retry of an untrusted version')
    assert.equal(await sub.catalog.find({ name: 'win11', version: 'evil' }), undefined, 'nothing stored')
  })
})
