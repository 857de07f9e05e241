// Snapshots put straight into a store's block stores and index (the store stopped), indexed the way the replication server indexes them.
import { join } from 'node:path'
import { createBlockstore } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'
import type { Entry } from '@cachecloud/personal'
import { Crafter } from '@cachecloud/personal/testing'
import { STORE_FILES, type VersionIndex } from '../src/index.js'
import { indexRows } from '../src/ingest.js'

export const CRAFT_NODE = '12D3KooWCraftTestCraftTestCraftTestCraftTest0001'

/** A tree of files from `path -> content` (paths with '/' become directories). */
function tree (c: Crafter, files: Record<string, string | Uint8Array>, mtimeMs: number): CID {
  const build = (prefix: string): Entry[] => {
    const names = new Map<string, boolean>()
    for (const p of Object.keys(files)) {
      if (!p.startsWith(prefix)) continue
      const rest = p.slice(prefix.length)
      const slash = rest.indexOf('/')
      names.set(slash < 0 ? rest : rest.slice(0, slash), slash >= 0)
    }
    return [...names].map(([name, isDir]) => isDir ? c.dir(name, build(`${prefix}${name}/`)) : c.file(name, files[prefix + name], 0o644, mtimeMs))
  }
  return c.dirBlock(build(''))
}

/** Commits each user's versions (oldest first) as snapshots of one node; returns their CIDs. */
export async function craftSnapshots (
  storeDir: string,
  index: VersionIndex,
  discoveryPublicKey: Uint8Array,
  users: Record<string,
  Array<{ time: number, files: Record<string, string | Uint8Array> }>>
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {}
  for (const [user, versions] of Object.entries(users)) {
    const c = new Crafter()
    const blocks = createBlockstore({ path: join(storeDir, STORE_FILES.blocks, user), compressionLevel: 0 })
    await blocks.start()
    let parent: CID | null = null
    out[user] = []
    for (const v of versions) {
      const root = tree(c, v.files, v.time - 60_000)
      const rec = c.record({
        user,
        node: CRAFT_NODE,
        discoveryPublicKey,
        root,
        time: new Date(v.time).toISOString(),
        parent,
        files: Object.keys(v.files).length
      })
      parent = rec.cid
      await c.storeInto(blocks)
      const rows = await indexRows(c.source, c.keys, rec.cid, rec.record)
      await index.commitSnapshot(rows.snapshot, rows.files)
      out[user].push(rec.cid.toString())
    }
    await blocks.stop()
  }
  return out
}
