import { createHash } from 'node:crypto'
import type { Blockstore } from '@cachecloud/blockstore'
import type { CID } from '@cachecloud/core'
import type { UserKeys } from './crypto.js'
import { openChunk } from './chunk-seal.js'
import { CHUNK_FORMAT, MAX_TREE_ENTRIES } from './constants.js'
import { ContentMismatchError, PathNotFoundError, TreeTooLargeError } from './errors.js'
import { readDir, type Entry } from './tree.js'

/** One entry of a snapshot tree with its path relative to the folder ('a/b.txt'). */
export interface TreeItem {
  path: string
  entry: Entry
}

/** Blocks a snapshot is read from: a local or a store-side block store. */
export type BlockSource = Pick<Blockstore, 'get'>

export interface WalkOptions {
  /** Path of `root` relative to the folder ('' = the folder). */
  prefix?: string
  /** Most entries (of any kind) walked before TreeTooLargeError. Default MAX_TREE_ENTRIES. */
  maxEntries?: number
  /** Most regular files walked before TreeTooLargeError, e.g. the count the snapshot record states. */
  maxFiles?: number
}

/**
 * Walks a snapshot tree depth-first in name order. A directory block reached
 * through several names (identical subdirectories seal alike) is opened once:
 * its entries are kept once a second link to it is seen, so a forged DAG that
 * names one child many times costs one decryption per block, and the entries
 * walked are bounded by `maxEntries` and `maxFiles`.
 */
export async function * walkTree (blocks: BlockSource, keys: UserKeys, root: CID, options: WalkOptions = {}): AsyncGenerator<TreeItem> {
  const maxEntries = options.maxEntries ?? MAX_TREE_ENTRIES
  const maxFiles = options.maxFiles ?? Infinity
  const refs = new Map<string, number>()
  const opened = new Map<string, Entry[]>()
  let entriesSeen = 0
  let filesSeen = 0
  const open = async (dir: CID): Promise<Entry[]> => {
    const key = dir.toString()
    const cached = opened.get(key)
    if (cached !== undefined) return cached
    const entries = await readDir(blocks, keys, dir)
    if ((refs.get(key) ?? 0) > 1) opened.set(key, entries)
    for (const e of entries) if (e.kind === 'dir') { const k = e.dir.toString(); refs.set(k, (refs.get(k) ?? 0) + 1) }
    return entries
  }
  // one generator and an explicit stack: a deep tree costs no chain of delegating generators per entry
  const stack: Array<{ entries: Entry[], i: number, prefix: string }> = [{ entries: await open(root), i: 0, prefix: options.prefix ?? '' }]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    if (top.i >= top.entries.length) { stack.pop(); continue }
    const entry = top.entries[top.i++]
    if (++entriesSeen > maxEntries) throw new TreeTooLargeError(`snapshot tree has more than ${maxEntries} entries`)
    if (entry.kind === 'file' && ++filesSeen > maxFiles) throw new TreeTooLargeError(`snapshot tree has more files than the ${maxFiles} its record states`)
    const path = top.prefix === '' ? entry.name : `${top.prefix}/${entry.name}`
    yield { path, entry }
    if (entry.kind === 'dir') stack.push({ entries: await open(entry.dir), i: 0, prefix: path })
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
    const plain = openChunk(keys, await blocks.get(chunk), entry.chunkFormat ?? CHUNK_FORMAT.plain, `chunk of ${path}`)
    hash.update(plain)
    size += plain.byteLength
    yield plain
  }
  const digest = hash.digest()
  if (size !== entry.size || !digest.equals(entry.sha256)) throw new ContentMismatchError(`${path}: content does not match the snapshot's size/SHA-256`)
}
