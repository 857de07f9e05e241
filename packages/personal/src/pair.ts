import type { CID } from '@cachecloud/core'
import { dirPages, openDir, readDir, type BlockSource, type UserKeys } from '@cachecloud/personal-format'

/**
 * For each directory block of the snapshot rooted at `next` that the one
 * rooted at `prev` does not have, the block of `prev` at the same place: the
 * same directory, or for a page the page that began at or before it. That is
 * the base a delta is taken against (docs/formats/personal.md#delta). Only
 * directories that changed are opened.
 */
export async function pairDirBlocks (blocks: BlockSource, keys: UserKeys, next: CID, prev: CID): Promise<Map<string, CID>> {
  const out = new Map<string, CID>()
  const firstNames = async (pages: CID[]): Promise<string[]> => await Promise.all(pages.map(async p => openDir(keys, await blocks.get(p))[0]?.name ?? ''))
  const visit = async (n: CID, o: CID): Promise<void> => {
    if (n.equals(o)) return
    out.set(n.toString(), o)
    const nPages = dirPages(keys, n, await blocks.get(n))
    const oPages = dirPages(keys, o, await blocks.get(o))
    const paged = nPages.length > 1 || !nPages[0].equals(n)
    if (paged) {
      const old = new Set(oPages.map(p => p.toString()))
      const oNames = await firstNames(oPages)
      const nNames = await firstNames(nPages)
      nPages.forEach((p, i) => {
        if (old.has(p.toString())) return
        let j = 0
        while (j + 1 < oNames.length && oNames[j + 1] <= nNames[i]) j++
        out.set(p.toString(), oPages[j])
      })
    }
    const before = new Map((await readDir(blocks, keys, o)).map(e => [e.name, e]))
    for (const e of await readDir(blocks, keys, n)) {
      const was = before.get(e.name)
      if (e.kind === 'dir' && was?.kind === 'dir') await visit(e.dir, was.dir)
    }
  }
  await visit(next, prev)
  return out
}
