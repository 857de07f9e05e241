import { createHash } from 'node:crypto'
import type { Blockstore } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'
import { openBlock, type UserKeys } from './crypto.js'
import { ContentMismatchError, PathNotFoundError } from './errors.js'
import { readDir, type Entry } from './tree.js'

/** One entry of a snapshot tree with its path relative to the folder ('a/b.txt'). */
export interface TreeItem {
  path: string
  entry: Entry
}

/** Blocks a snapshot is read from: a local or a store-side block store. */
export type BlockSource = Pick<Blockstore, 'get'>

/** Walks a snapshot tree depth-first in name order. */
export async function * walkTree (blocks: BlockSource, keys: UserKeys, root: CID, prefix = ''): AsyncGenerator<TreeItem> {
  const entries = await readDir(blocks, keys, root)
  for (const entry of entries) {
    const path = prefix === '' ? entry.name : `${prefix}/${entry.name}`
    yield { path, entry }
    if (entry.kind === 'dir') yield * walkTree(blocks, keys, entry.dir, path)
  }
}

/** The entry at `path` ('' is the root, returned as a directory entry). */
export async function findEntry (blocks: BlockSource, keys: UserKeys, root: CID, path: string): Promise<Entry> {
  const parts = path.split('/').filter(p => p !== '' && p !== '.')
  let entry: Entry = { kind: 'dir', name: '', mode: 0o755, mtimeMs: 0, dir: root }
  for (const [i, part] of parts.entries()) {
    if (entry.kind !== 'dir') throw new PathNotFoundError(`${parts.slice(0, i).join('/')} is not a directory`)
    const found: Entry | undefined = (await readDir(blocks, keys, entry.dir)).find(e => e.name === part)
    if (found === undefined) throw new PathNotFoundError(`${parts.slice(0, i + 1).join('/')} is not in the snapshot`)
    entry = found
  }
  return entry
}

/** A file's plaintext, chunk by chunk; checks the SHA-256 recorded at snapshot time at the end. */
export async function * readFileContent (blocks: BlockSource, keys: UserKeys, entry: Extract<Entry, { kind: 'file' }>, path = entry.name): AsyncGenerator<Uint8Array> {
  const hash = createHash('sha256')
  let size = 0
  for (const chunk of entry.chunks) {
    const plain = openBlock(keys, await blocks.get(chunk), `chunk of ${path}`)
    hash.update(plain)
    size += plain.byteLength
    yield plain
  }
  const digest = hash.digest()
  if (size !== entry.size || !digest.equals(entry.sha256)) throw new ContentMismatchError(`${path}: content does not match the snapshot's size/SHA-256`)
}
