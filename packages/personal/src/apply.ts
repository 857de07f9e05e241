import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { lstat, open, readlink, rename, rm, rmdir } from 'node:fs/promises'
import { dirname, extname } from 'node:path'
import type { Logger } from 'pino'
import { SafeFolder, writeRestoredFile, type BlockSource, type UserKeys } from '@cachecloud/personal-format'
import type { FlatTree, Leaf, MergeAction, MergePlan } from './merge.js'

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

/** Writes a remote version at `rel`, never through a symlink on the way (SafeFolder). */
async function place (init: ApplyInit, folder: SafeFolder, e: Leaf, rel: string): Promise<void> {
  if (e.kind === 'file') await writeRestoredFile(init.blocks, init.keys, e, folder, rel)
  else await folder.symlink(rel, e.target)
}

/** Removes directories left empty by a deletion, up to the folder, unless the remote tree still has them. */
async function pruneEmpty (init: ApplyInit, folder: SafeFolder, path: string): Promise<void> {
  for (let dir = dirname(path); dir !== '.' && dir !== ''; dir = dirname(dir)) {
    if (init.remote.dirs.has(dir)) return
    try { await rmdir(await folder.resolve(dir)) } catch { return } // not empty, gone, or behind a symlink
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
  const folder = await SafeFolder.open(init.folder)
  // every path of the plan is checked: no symlink on the way to it (a refused one is skipped and reported)
  const abs = async (p: string): Promise<string> => await folder.resolve(p)
  const wrote = async (p: string): Promise<void> => { const a = await abs(p); files.add(a); dirs.add(dirname(a)) }
  const skip = (a: MergeAction, why: string): void => {
    result.skipped.push(a.path)
    init.log?.info({ path: a.path, why }, 'merge left a path for later')
  }
  for (const a of plan.actions) {
    try {
      if (!await stillIs(await abs(a.path), a.local)) { skip(a, 'changed since the scan'); continue }
      if (a.type === 'write') {
        await place(init, folder, a.entry, a.path); await wrote(a.path); result.applied++
      } else if (a.type === 'delete') {
        const target = await abs(a.path)
        await rm(target); dirs.add(dirname(target)); result.applied++
        await pruneEmpty(init, folder, a.path)
      } else if (a.winner === 'remote') {
        // the copy may be there already (the other node resolved first and its copy was merged just before): then it keeps our version
        if (!await holds(await abs(a.copyPath), a.local)) {
          const copy = await freeName(await abs(a.copyPath))
          await rename(await abs(a.path), copy); files.add(copy); dirs.add(dirname(copy))
        }
        await place(init, folder, a.remote, a.path); await wrote(a.path)
        result.conflicts.push(a.copyPath)
      } else {
        await place(init, folder, a.remote, a.copyPath); await wrote(a.copyPath)
        result.conflicts.push(a.copyPath)
      }
    } catch (err) {
      skip(a, (err as Error).message)
    }
  }
  await syncAll(files, dirs)
  return result
}
