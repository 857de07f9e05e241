import { extname } from 'node:path'
import type { CID } from '@cachecloud/core'
import { CONFLICT_MARKER, NODE_TAG_CHARS, walkTree, type BlockSource, type FileEntry, type SymlinkEntry, type UserKeys } from '@cachecloud/personal-format'

// Three-way merge of another node's snapshot into the live folder
// (docs/formats/personal.md#convergence). Per path, three versions: the local
// one (the snapshot just taken), the remote one, and the base (the same
// node's snapshot this node merged last time). Only a remote change is
// acted on; a change on both sides to different content is a conflict: one
// version stays at the path, the other is written beside it as a conflict
// copy, and both stay in history.

/** A file or symlink of a snapshot tree. */
export type Leaf = FileEntry | SymlinkEntry

/** A tree flattened to its files and symlinks by path, and the set of its directories. */
export interface FlatTree { leaves: Map<string, Leaf>, dirs: Set<string> }

/** What identifies a version's content: `f:<sha256 hex>` or `l:<target>`; undefined = absent. */
export function versionKey (e: Leaf | undefined): string | undefined {
  if (e === undefined) return undefined
  return e.kind === 'file' ? 'f:' + Buffer.from(e.sha256).toString('hex') : 'l:' + e.target
}

/** The version key of every path of a tree: a merge's base. */
export function versionsOf (tree: FlatTree): Map<string, string> {
  return new Map([...tree.leaves].map(([path, e]) => [path, versionKey(e)!]))
}

export async function flattenTree (blocks: BlockSource, keys: UserKeys, root: CID): Promise<FlatTree> {
  const leaves = new Map<string, Leaf>()
  const dirs = new Set<string>()
  for await (const { path, entry } of walkTree(blocks, keys, root)) {
    if (entry.kind === 'dir') dirs.add(path)
    else leaves.set(path, entry)
  }
  return { leaves, dirs }
}

export type MergeAction =
  /** Take the remote version (the local one is the base: nothing is lost). */
  | { type: 'write', path: string, entry: Leaf, local: Leaf | undefined }
  /** The remote deleted the path and the local version is the base (it stays in history). */
  | { type: 'delete', path: string, local: Leaf }
  /** Both changed: `winner` stays at `path`, the other version goes to `copyPath`. */
  | { type: 'conflict', path: string, winner: 'local' | 'remote', copyPath: string, local: Leaf, remote: Leaf }

export interface MergePlan {
  actions: MergeAction[]
}

/** `report.docx` -> `report.conflict-<node tag>-<YYYYMMDD-HHMMSS>.docx`, from the losing version's node and mtime: both nodes name it alike. */
export function conflictName (path: string, node: string, mtimeMs: number): string {
  const slash = path.lastIndexOf('/')
  const name = path.slice(slash + 1)
  const ext = name.startsWith('.') && name.indexOf('.', 1) === -1 ? '' : extname(name)
  const stem = name.slice(0, name.length - ext.length)
  const t = new Date(mtimeMs).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)
  return `${path.slice(0, slash + 1)}${stem}${CONFLICT_MARKER}${node.slice(-NODE_TAG_CHARS)}-${t}${ext}`
}

/** The later mtime wins; on a tie the greater node id, so that both nodes pick the same version. */
function localWins (local: Leaf, localNode: string, remote: Leaf, remoteNode: string): boolean {
  if (local.mtimeMs !== remote.mtimeMs) return local.mtimeMs > remote.mtimeMs
  return localNode > remoteNode
}

export function planMerge (local: FlatTree, remote: FlatTree, base: Map<string, string>, localNode: string, remoteNode: string): MergePlan {
  const actions: MergeAction[] = []
  const paths = new Set([...local.leaves.keys(), ...remote.leaves.keys(), ...base.keys()])
  for (const path of [...paths].sort()) {
    const l = local.leaves.get(path)
    const r = remote.leaves.get(path)
    const lk = versionKey(l)
    const rk = versionKey(r)
    const bk = base.get(path)
    if (rk === bk) continue // the remote did not change it: whatever is here stands
    if (lk === rk) continue // same change on both sides
    if (lk === bk) {
      // only the remote changed it
      if (r === undefined) actions.push({ type: 'delete', path, local: l! })
      else actions.push({ type: 'write', path, entry: r, local: l })
      continue
    }
    // both changed: an edit wins over a deletion, else one wins and the other is copied beside it
    if (r === undefined) continue
    if (l === undefined) { actions.push({ type: 'write', path, entry: r, local: undefined }); continue }
    const winner = localWins(l, localNode, r, remoteNode) ? 'local' : 'remote'
    const loser = winner === 'local' ? { node: remoteNode, e: r } : { node: localNode, e: l }
    actions.push({ type: 'conflict', path, winner, copyPath: conflictName(path, loser.node, loser.e.mtimeMs), local: l, remote: r })
  }
  return { actions }
}
