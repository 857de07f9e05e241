import assert from 'node:assert/strict'
import { readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { encodeManifest, formatPublicKey } from '@cachecloud/manifest'
import { CatalogCorruptError, ImageNotFoundError, VersionExistsError, VersionNotFoundError } from '../src/index.js'
import { makeNode, smallManifest, type Node } from './helpers.js'

describe('catalog', () => {
  const nodes: Node[] = []
  after(async () => { for (const n of nodes) await n.destroy() })
  const node = async (): Promise<Node> => { const n = await makeNode(); nodes.push(n); return n }

  it('adds, gets, lists, finds the latest complete version and removes', async () => {
    const { catalog, key, blockstore } = await node()
    const v1 = smallManifest(key, 'os', 'v1', [1, 2], new Date(1000))
    const v2 = smallManifest(key, 'os', 'v2', [1, 3], new Date(2000))
    const v3 = smallManifest(key, 'os', 'v3', [4], new Date(3000))
    const other = smallManifest(key, 'db', '1.0', [5], new Date(500))

    const e1 = await catalog.add(v1, 'complete')
    assert.equal(e1.cid.toString(), encodeManifest(v1).cid.toString())
    assert.equal(e1.publisher, formatPublicKey(key.publicKey))
    assert.equal(e1.size, 8192)
    assert.ok(await blockstore.has(e1.cid), 'manifest stored as a block')
    await catalog.add(v2, 'complete')
    await catalog.add(v3, 'pulling')
    await catalog.add(other, 'complete')

    assert.equal((await catalog.latest('os'))?.version, 'v2', 'pulling versions are not the latest')
    assert.equal(await catalog.latest('nope'), undefined)
    assert.deepEqual((await catalog.list()).map((e) => `${e.name}@${e.version}:${e.state}`), ['db@1.0:complete', 'os@v1:complete', 'os@v2:complete', 'os@v3:pulling'])

    const done = await catalog.markComplete({ name: 'os', version: 'v3' })
    assert.equal(done.state, 'complete')
    assert.equal((await catalog.latest('os'))?.version, 'v3')

    const m = await catalog.manifest({ name: 'os', version: 'v2' })
    assert.equal(m.blocks[1]?.toString(), v2.blocks[1]?.toString())

    const live = await catalog.liveCids()
    for (const manifest of [v1, v2, v3, other]) {
      assert.ok(live.has(encodeManifest(manifest).cid.toString()))
      for (const cid of manifest.blocks) if (cid !== null) assert.ok(live.has(cid.toString()))
    }
    assert.equal(live.size, 4 + 5)

    await catalog.remove({ name: 'os', version: 'v1' })
    assert.equal(await catalog.find({ name: 'os', version: 'v1' }), undefined)
    await catalog.remove({ name: 'db', version: '1.0' })
    await assert.rejects(catalog.get({ name: 'db', version: '1.0' }), ImageNotFoundError)
    await assert.rejects(catalog.get({ name: 'os', version: 'v9' }), (err: Error) => err instanceof VersionNotFoundError && err.message.includes('os@v9') && (err as VersionNotFoundError).code === 'ERR_VERSION_NOT_FOUND')
    await assert.rejects(catalog.remove({ name: 'os', version: 'v1' }), VersionNotFoundError)
  })

  it('re-adding the same manifest is a no-op; a different one under the same ref fails', async () => {
    const { catalog, key } = await node()
    const v1 = smallManifest(key, 'os', 'v1', [1], new Date(1000))
    await catalog.add(v1, 'complete')
    assert.equal((await catalog.add(v1, 'pulling')).state, 'complete', 'a complete entry stays complete')
    const impostor = smallManifest(key, 'os', 'v1', [2], new Date(1000))
    await assert.rejects(catalog.add(impostor, 'complete'), (err: Error) => err instanceof VersionExistsError && (err as VersionExistsError).code === 'ERR_VERSION_EXISTS' && err.message.includes('os@v1'))
  })

  it('persists across a restart', async () => {
    const first = await node()
    const v1 = smallManifest(first.key, 'os', 'v1', [1, null, 2])
    await first.catalog.add(v1, 'pulling')
    await first.stop()
    const again = await makeNode(first.dir, first.key)
    try {
      const entry = await again.catalog.get({ name: 'os', version: 'v1' })
      assert.equal(entry.state, 'pulling')
      assert.equal(entry.cid.toString(), encodeManifest(v1).cid.toString())
      assert.equal((await again.catalog.manifest(entry)).blocks[1], null)
    } finally {
      await again.stop()
    }
  })

  it('reports a damaged ref file clearly', async () => {
    const { catalog, key, dir } = await node()
    await catalog.add(smallManifest(key, 'os', 'v1', [1]), 'complete')
    const refs = join(dir, 'catalog', 'refs', 'os')
    assert.deepEqual(await readdir(refs), ['v1.json'])
    await writeFile(join(refs, 'v1.json'), '{"v":1,"cid":')
    await assert.rejects(catalog.get({ name: 'os', version: 'v1' }), (err: Error) => err instanceof CatalogCorruptError && err.message.includes('os@v1'))
  })
})
