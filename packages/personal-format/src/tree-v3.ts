import type { CID } from '@cachecloud/core'
import { DIR_FORMAT_V3 } from './constants.js'
import { openBlock, type UserKeys } from './crypto.js'
import { bytes, cid, decodeCbor, fail, int, isObj, type Obj } from './decode.js'
import { decodeEntryWith } from './entry-decode.js'
import type { Entry, OpenedDir } from './tree.js'

// Directory blocks of format 3, read only (docs/formats/personal.md#tree,
// "History"): { l: [CID] sorted, s: sealed { f, e: [entries], g?: [page indexes] } },
// entries naming their chunks and directory by index into l. Snapshots
// written before format 4 stay readable for restore and discovery.

function decodeEntryV3 (v: unknown, links: CID[]): Entry {
  const link = (i: unknown): CID => links[int(i, 'link index')] ?? fail(`link index ${String(i)} out of range`)
  return decodeEntryWith(v, {
    chunks: e => {
      if (!Array.isArray(e.c)) fail('chunks: not a list')
      return (e.c as unknown[]).map(link)
    },
    dir: e => link(e.d)
  })
}

export function openV3 (keys: UserKeys, v: Obj): OpenedDir {
  if (!Array.isArray(v.l)) return fail('directory block: not a map with links')
  const links = (v.l as unknown[]).map(c => cid(c, 'link'))
  const node = decodeCbor(openBlock(keys, bytes(v.s, 'sealed entries'), 'directory'), 'sealed directory')
  if (!isObj(node) || node.f !== DIR_FORMAT_V3 || !Array.isArray(node.e)) return fail('sealed directory: bad format')
  if (Array.isArray(node.g)) return { paged: true, pages: (node.g as unknown[]).map(i => links[int(i, 'page index')] ?? fail(`page index ${String(i)} out of range`)), entries: [] }
  return { paged: false, pages: [], entries: (node.e as unknown[]).map(e => decodeEntryV3(e, links)) }
}
