// A data-center store built the way replication leaves one, for tests of check (also `@cachecloud/dcstore/testing`).
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { createBlockstore } from '@cachecloud/blockstore'
import { generateX25519KeyPair } from '@cachecloud/personal'
import { Crafter } from '@cachecloud/personal/testing'
import { createSqliteIndex, STORE_FILES } from '../src/index.js'

export const discovery = generateX25519KeyPair()
export const NODE = '12D3KooWCheckTestCheckTestCheckTestCheckTest1234'

/**
 * A store of real block stores and a real index, as replication leaves them:
 * each user two snapshots sharing a file (and a directory large enough to be
 * paged), blocks in packs (`packBytes`: smaller packs, more of them), committed index log.
 */
export async function buildStore (
  path: string,
  users: string[],
  sizes: { shared: number, own: number } = { shared: 300_000, own: 200_000 },
  packBytes?: number
): Promise<Record<string, string[]>> {
  const index = createSqliteIndex(join(path, STORE_FILES.index))
  await index.start()
  const snapshots: Record<string, string[]> = {}
  for (const user of users) {
    const blocks = createBlockstore({ path: join(path, STORE_FILES.blocks, user), compressionLevel: 0, ...(packBytes === undefined ? {} : { packBytes }) })
    await blocks.start()
    const c = new Crafter()
    const shared = c.file('shared.bin', randomBytes(sizes.shared))
    snapshots[user] = []
    for (let i = 0; i < 2; i++) {
      const root = c.dirBlock([shared, c.file(`own-${i}.bin`, randomBytes(sizes.own)), c.dir('sub', [c.file('small.txt', `${user} ${i}`)]), c.dir('many', Array.from({ length: 100 }, (_, j) => c.file(`f${String(j).padStart(3, '0')}`, `${user} ${j}`)))])
      const time = new Date(Date.parse('2026-11-01T00:00:00Z') + i * 3_600_000).toISOString()
      const rec = c.record({ user, node: NODE, discoveryPublicKey: discovery.publicKey, root, time, files: 3 })
      await c.storeInto(blocks)
      await index.commitSnapshot(
        {
          cid: rec.cid.toString(),
          user,
          node: NODE,
          timeMs: Date.parse(time),
          parent: null,
          root: root.toString(),
          files: 3,
          bytes: sizes.shared + sizes.own,
          committedMs: Date.now()
        },
        []
      )
      snapshots[user].push(rec.cid.toString())
    }
    await blocks.stop()
  }
  await index.stop()
  return snapshots
}
