import type { CID } from '@cachecloud/core'
import { CHUNK_FORMAT, ENTRY_KIND } from './constants.js'
import { bytes, fail, int, isObj, str, type Obj } from './decode.js'
import type { Entry } from './tree.js'

/** How a directory format names an entry's links: chunks of a file, the block of a subdirectory. */
export interface EntryLinks {
  chunks: (v: Obj) => CID[]
  dir: (v: Obj) => CID
}

/** Decodes one directory entry, checking every field; the format decides how its links are found. */
export function decodeEntryWith (v: unknown, links: EntryLinks): Entry {
  if (!isObj(v)) return fail('directory entry: not a map')
  const name = str(v.n, 'entry name')
  if (name === '' || name === '.' || name === '..' || name.includes('/') || name.includes('\0')) fail(`entry name ${JSON.stringify(name)}`)
  const base = { name, mode: int(v.p, 'mode'), mtimeMs: int(v.m, 'mtime') }
  if (v.k === ENTRY_KIND.file) {
    const sha = bytes(v.h, 'sha256')
    if (sha.byteLength !== 32) fail('sha256 of a file is 32 bytes')
    if (v.z !== undefined && v.z !== CHUNK_FORMAT.flagged) fail(`unknown chunk format ${String(v.z)}`)
    return { kind: 'file', ...base, size: int(v.s, 'size'), sha256: sha, chunks: links.chunks(v), ...(v.z === undefined ? {} : { chunkFormat: CHUNK_FORMAT.flagged }) }
  }
  if (v.k === ENTRY_KIND.dir) return { kind: 'dir', ...base, dir: links.dir(v) }
  if (v.k === ENTRY_KIND.symlink) return { kind: 'symlink', ...base, target: str(v.t, 'target') }
  return fail(`unknown entry kind ${String(v.k)}`)
}
