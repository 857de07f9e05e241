import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { ProgressEvent } from '@cachecloud/core'
import { TempDirs } from '@cachecloud/test-utils'
import { codeOf, startNode, type TestNode } from './helpers.js'

const MIB = 1024 * 1024

/** Direct pulls between two real daemons on 127.0.0.1: the daemon's `images.pull`, its job, the pause. */
describe('daemon pulls', () => {
  const dirs = new TempDirs()
  let a: TestNode
  let b: TestNode
  let image: Buffer

  before(async () => {
    a = await startNode(dirs)
    b = await startNode(dirs, { trustedPublishers: [a.publisherKey] })
    image = Buffer.concat([randomBytes(3 * MIB), Buffer.alloc(MIB), randomBytes(100_000)])
    await writeFile(join(a.dataDir, 'gold.raw'), image)
    await a.client.importImage({ file: join(a.dataDir, 'gold.raw'), name: 'gold', version: '1' }, () => {})
  })

  after(async () => {
    await Promise.allSettled([a?.daemon.stop(), b?.daemon.stop()])
    await dirs.removeAll()
  })

  it('pulls a version from a named peer as a job: progress, result, the job done with ETA 0, the same bytes', async () => {
    const events: ProgressEvent[] = []
    const result = await b.client.pull({ ref: 'gold@1', from: [a.address] }, (e) => { events.push(e) })
    assert.equal(result.ref, 'gold@1')
    assert.equal(result.fetchedBytes, 3 * MIB + 100_000, 'the zero block is a hole: not fetched')
    assert.ok(events.length > 0 && events.at(-1)?.done === events.at(-1)?.total)
    const job = (await b.client.status()).jobs.find(j => j.kind === 'pull' && j.ref === 'gold@1')
    assert.equal(job?.state, 'done')
    assert.equal(job?.etaSeconds, 0)
    assert.equal(job?.done, job?.total)
    assert.deepEqual((await b.daemon.images.list()).map(v => `${v.name}@${v.version} ${v.state}`), ['gold@1 complete'])
    const out = join(b.dataDir, 'out.raw')
    await b.client.exportImage({ ref: 'gold@1', file: out }, () => {})
    assert.ok((await readFile(out)).equals(image))
  })

  it('a second pull of a version held fetches nothing', async () => {
    const again = await b.client.pull({ ref: 'gold@1', from: [a.address] }, () => {})
    assert.equal(again.fetchedBlocks, 0)
  })

  it('refuses a pull with no peer to pull from, one of a version no peer has, and any while paused', async () => {
    assert.equal(await codeOf(b.client.pull({ ref: 'gold@2' }, () => {})), 'ERR_NO_PEERS')
    assert.equal(await codeOf(b.client.pull({ ref: 'gold@2', from: [a.address] }, () => {})), 'ERR_VERSION_UNAVAILABLE')
    await b.client.pause()
    assert.equal(await codeOf(b.client.pull({ ref: 'gold@1', from: [a.address] }, () => {})), 'ERR_PAUSED')
    await b.client.resume()
  })
})
