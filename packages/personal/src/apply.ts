import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, mkdir, open, readlink, rename, rm, rmdir, symlink } from 'node:fs/promises'
import { dirname, extname, join } from 'node:path'
import type { Logger } from 'pino'
import type { UserKeys } from './crypto.js'
import type { FlatTree, Leaf, MergeAction, MergePlan } from './merge.js'
import { writeRestoredFile } from './restore.js'
import type { BlockSource } from './walk.js'

export interface ApplyInit {
  folder: string
  blocks: BlockSource
  keys: UserKeys
  remote: FlatTree
  log?: Logger
}

export interface ApplyResult {
  /** Remote versions written or deletions applied. */
  applied: number
  /** Conflict copies written. */
  conflicts: string[]
  /** Paths changed on disk since the scan (or that failed): left alone, merged again next time. */
  skipped: string[]
}

/** Whether the path still holds what the scan saw (undefined: nothing). Compared by kind, size and mtime (ms), like the scan cache. */
async function stillIs (abs: string, e: Leaf | undefined): Promise<boolean> {
  const st = await lstat(abs, { bigint: true }).catch(() => undefined)
  if (e === undefined) return st === undefined
  if (st === undefined) return false
  if (e.kind === 'symlink') return st.isSymbolicLink() && await readlink(abs) === e.target
  return st.isFile() && st.size === BigInt(e.size) && Number(st.mtimeNs / 1_000_000n) === e.mtimeMs
}

/** Whether the path holds exactly this version (content hash for a file, target for a symlink). */
async function holds (abs: string, e: Leaf): Promise<boolean> {
  const st = await lstat(abs).catch(() => undefined)
  if (st === undefined) return false
  if (e.kind === 'symlink') return st.isSymbolicLink() && await readlink(abs) === e.target
  if (!st.isFile() || st.size !== e.size) return false
  const hash = createHash('sha256')
  for await (const piece of createReadStream(abs)) hash.update(piece as Buffer)
  return hash.digest().equals(e.sha256)
}

async function place (init: ApplyInit, e: Leaf, abs: string, label: string): Promise<void> {
  if (e.kind === 'file') { await writeRestoredFile(init.blocks, init.keys, e, abs, label); return }
  await mkdir(dirname(abs), { recursive: true })
  await rm(abs, { force: true })
  await symlink(e.target, abs)
}

/** Removes directories left empty by a deletion, up to the folder, unless the remote tree still has them. */
async function pruneEmpty (init: ApplyInit, path: string): Promise<void> {
  for (let dir = dirname(path); dir !== '.' && dir !== ''; dir = dirname(dir)) {
    if (init.remote.dirs.has(dir)) return
    try { await rmdir(join(init.folder, dir)) } catch { return } // not empty, or gone
  }
}

/** `path`, or `path` with `-1`, `-2`, ... before its extension when taken: a rename never replaces another file. */
async function freeName (path: string): Promise<string> {
  const ext = extname(path)
  for (let i = 0; ; i++) {
    const candidate = i === 0 ? path : `${path.slice(0, path.length - ext.length)}-${i}${ext}`
    if (await lstat(candidate).catch(() => undefined) === undefined) return candidate
  }
}

/** fsync of what a merge wrote: each file, then each directory it renamed into (one batch, at the commit point). */
async function syncAll (files: Set<string>, dirs: Set<string>): Promise<void> {
  for (const path of [...files, ...dirs]) {
    const handle = await open(path, 'r').catch(() => undefined)
    if (handle === undefined) continue
    try { await handle.sync() } finally { await handle.close() }
  }
}

/**
 * Carries out a merge plan in the live folder. Before touching a path it
 * checks the path still holds what the scan saw; if not (the user is editing
 * it right now) the path is left alone and merged again next time. The local
 * version of a lost conflict is renamed to its conflict copy, never deleted.
 */
export async function applyMerge (init: ApplyInit, plan: MergePlan): Promise<ApplyResult> {
  const result: ApplyResult = { applied: 0, conflicts: [], skipped: [] }
  const files = new Set<string>()
  const dirs = new Set<string>()
  const abs = (p: string): string => join(init.folder, p)
  const wrote = (p: string): void => { files.add(abs(p)); dirs.add(dirname(abs(p))) }
  const skip = (a: MergeAction, why: string): void => {
    result.skipped.push(a.path)
    init.log?.info({ path: a.path, why }, 'merge left a path for later')
  }
  for (const a of plan.actions) {
    try {
      if (!await stillIs(abs(a.path), a.local)) { skip(a, 'changed since the scan'); continue }
      if (a.type === 'write') {
        await place(init, a.entry, abs(a.path), a.path); wrote(a.path); result.applied++
      } else if (a.type === 'delete') {
        await rm(abs(a.path)); dirs.add(dirname(abs(a.path))); result.applied++
        await pruneEmpty(init, a.path)
      } else if (a.winner === 'remote') {
        // the copy may be there already (the other node resolved first and its copy was merged just before): then it keeps our version
        if (!await holds(abs(a.copyPath), a.local)) {
          const copy = await freeName(abs(a.copyPath))
          await rename(abs(a.path), copy); files.add(copy); dirs.add(dirname(copy))
        }
        await place(init, a.remote, abs(a.path), a.path); wrote(a.path)
        result.conflicts.push(a.copyPath)
      } else {
        await place(init, a.remote, abs(a.copyPath), a.copyPath); wrote(a.copyPath)
        result.conflicts.push(a.copyPath)
      }
    } catch (err) {
      skip(a, (err as Error).message)
    }
  }
  await syncAll(files, dirs)
  return result
}
