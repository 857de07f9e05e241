import { lstat, mkdir, open, rename, rm, symlink, utimes, chmod } from 'node:fs/promises'
import { basename, dirname, join, resolve, sep } from 'node:path'
import { TEMP_MARKER } from './constants.js'
import type { CID } from '@cachecloud/core'
import type { UserKeys } from './crypto.js'
import { PathNotFoundError } from './errors.js'
import type { Entry, FileEntry } from './tree.js'
import { findEntry, readFileContent, walkTree, type BlockSource } from './walk.js'

/** Files written at once by a restore. */
const RESTORE_CONCURRENCY = 8

export interface RestoreResult {
  files: number
  bytes: number
  /** Absolute paths written. */
  paths: string[]
}

/**
 * Writes one file atomically (temp, rename) with its mode and mtime; content
 * checked against its SHA-256. No fsync per file: a restore of thousands of
 * files would spend its time there, and an interrupted restore is simply rerun.
 */
export async function writeRestoredFile (blocks: BlockSource, keys: UserKeys, entry: FileEntry, target: string, label: string): Promise<void> {
  await mkdir(dirname(target), { recursive: true })
  const tmp = join(dirname(target), `.${basename(target)}${TEMP_MARKER}${process.pid}`)
  const handle = await open(tmp, 'w', 0o600)
  try {
    for await (const piece of readFileContent(blocks, keys, entry, label)) await handle.write(piece)
  } catch (err) {
    await handle.close()
    await rm(tmp, { force: true })
    throw err
  }
  await handle.close()
  await chmod(tmp, entry.mode)
  const t = new Date(entry.mtimeMs)
  await utimes(tmp, t, t)
  await rename(tmp, target)
}

async function place (blocks: BlockSource, keys: UserKeys, entry: Entry, target: string, label: string, result: RestoreResult): Promise<void> {
  if (entry.kind === 'file') {
    await writeRestoredFile(blocks, keys, entry, target, label)
    result.files++; result.bytes += entry.size; result.paths.push(target)
  } else if (entry.kind === 'symlink') {
    await mkdir(dirname(target), { recursive: true })
    const existing = await lstat(target).catch(() => undefined)
    if (existing !== undefined && !existing.isDirectory()) await rm(target)
    await symlink(entry.target, target)
    result.paths.push(target)
  } else {
    await mkdir(target, { recursive: true })
  }
}

/**
 * Restores `path` ('' = everything) of the snapshot rooted at `root` under
 * `toDir`, keeping its relative path: a file restored to DIR lands at DIR/path.
 * Existing files are replaced; nothing else in `toDir` is touched.
 */
export async function restoreTree (blocks: BlockSource, keys: UserKeys, root: CID, path: string, toDir: string): Promise<RestoreResult> {
  const clean = path.split('/').filter(p => p !== '' && p !== '.').join('/')
  if (clean.split('/').includes('..')) throw new PathNotFoundError(`path ${JSON.stringify(path)} leaves the folder`)
  const base = resolve(toDir)
  const result: RestoreResult = { files: 0, bytes: 0, paths: [] }
  const entry = await findEntry(blocks, keys, root, clean)
  const target = clean === '' ? base : join(base, clean)
  if (!target.startsWith(base + sep) && target !== base) throw new PathNotFoundError(`path ${JSON.stringify(path)} leaves the folder`)
  await place(blocks, keys, entry, target, clean, result)
  if (entry.kind === 'dir') {
    const dirs: Array<{ target: string, mode: number, mtimeMs: number }> = []
    // files are written RESTORE_CONCURRENCY at a time; a directory is created before anything inside it
    const inFlight = new Set<Promise<void>>()
    let failed: Error | undefined
    for await (const item of walkTree(blocks, keys, entry.dir, clean)) {
      const itemTarget = join(base, item.path)
      if (item.entry.kind === 'dir') {
        await place(blocks, keys, item.entry, itemTarget, item.path, result)
        dirs.push({ target: itemTarget, mode: item.entry.mode, mtimeMs: item.entry.mtimeMs })
        continue
      }
      if (failed !== undefined) break
      const p: Promise<void> = place(blocks, keys, item.entry, itemTarget, item.path, result)
        .catch(err => { failed ??= err as Error })
        .finally(() => { inFlight.delete(p) })
      inFlight.add(p)
      if (inFlight.size >= RESTORE_CONCURRENCY) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    if (failed !== undefined) throw failed
    for (const d of dirs.reverse()) {
      await chmod(d.target, d.mode)
      await utimes(d.target, new Date(d.mtimeMs), new Date(d.mtimeMs))
    }
  }
  return result
}
