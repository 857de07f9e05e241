import type { CID } from '@cachecloud/core'
import { DIR_FORMAT_V3, ENTRY_KIND } from './constants.js'
import { openBlock, type UserKeys } from './crypto.js'
import { bytes, cid, decodeCbor, fail, int, isObj, str, type Obj } from './decode.js'
import type { Entry, OpenedDir } from './tree.js'

// Directory blocks of format 3, read only (docs/formats/personal.md#tree,
// "History"): { l: [CID] sorted, s: sealed { f, e: [entries], g?: [page indexes] } },
// entries naming their chunks and directory by index into l. Snapshots
// written before format 4 stay readable for restore and discovery.

const KIND = ENTRY_KIND

function decodeEntryV3 (v: unknown, links: CID[]): Entry {
  const link = (i: unknown): CID => links[int(i, 'link index')] ?? fail(`link index ${String(i)} out of range`)
  if (!isObj(v)) return fail('directory entry: not a map')
  const name = str(v.n, 'entry name')
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) fail(`entry name ${JSON.stringify(name)}`)
  const base = { name, mode: int(v.p, 'mode'), mtimeMs: int(v.m, 'mtime') }
  if (v.k === KIND.file) {
    const sha = bytes(v.h, 'sha256')
    if (sha.byteLength !== 32) fail('sha256 of a file is 32 bytes')
    if (!Array.isArray(v.c)) fail('chunks: not a list')
    return { kind: 'file', ...base, size: int(v.s, 'size'), sha256: sha, chunks: (v.c as unknown[]).map(link) }
  }
  if (v.k === KIND.dir) return { kind: 'dir', ...base, dir: link(v.d) }
  if (v.k === KIND.symlink) return { kind: 'symlink', ...base, target: str(v.t, 'target') }
  return fail(`unknown entry kind ${String(v.k)}`)
}

export function openV3 (keys: UserKeys, v: Obj): OpenedDir {
  if (!Array.isArray(v.l)) return fail('directory block: not a map with links')
  const links = (v.l as unknown[]).map(c => cid(c, 'link'))
  const node = decodeCbor(openBlock(keys, bytes(v.s, 'sealed entries'), 'directory'), 'sealed directory')
  if (!isObj(node) || node.f !== DIR_FORMAT_V3 || !Array.isArray(node.e)) return fail('sealed directory: bad format')
  if (Array.isArray(node.g)) return { paged: true, pages: (node.g as unknown[]).map(i => links[int(i, 'page index')] ?? fail(`page index ${String(i)} out of range`)), entries: [] }
  return { paged: false, pages: [], entries: (node.e as unknown[]).map(e => decodeEntryV3(e, links)) }
}
