import type { CID } from '@cachecloud/core'
import type { UserKeys } from './crypto.js'
import { PathNotFoundError, UnsafePathError } from './errors.js'
import { pathParts, SafeFolder } from './safe-path.js'
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
 * Writes one file atomically (temp, rename) at `rel` in `folder` with its
 * permission bits and mtime; content checked against its SHA-256. No fsync
 * per file: a restore of thousands of files would spend its time there, and
 * an interrupted restore is simply rerun.
 */
export async function writeRestoredFile (blocks: BlockSource, keys: UserKeys, entry: FileEntry, folder: SafeFolder, rel: string, label = rel): Promise<string> {
  return await folder.writeFile(rel, readFileContent(blocks, keys, entry, label), entry)
}

async function place (blocks: BlockSource, keys: UserKeys, entry: Entry, folder: SafeFolder, rel: string, result: RestoreResult): Promise<void> {
  if (entry.kind === 'file') {
    const abs = await writeRestoredFile(blocks, keys, entry, folder, rel)
    result.files++; result.bytes += entry.size; result.paths.push(abs)
  } else if (entry.kind === 'symlink') {
    result.paths.push(await folder.symlink(rel, entry.target))
  } else {
    await folder.mkdirs(rel)
  }
}

/**
 * Restores `path` ('' = everything) of the snapshot rooted at `root` under
 * `toDir`, keeping its relative path: a file restored to DIR lands at DIR/path.
 * Existing files are replaced; nothing else in `toDir` is touched, and nothing
 * outside it: a symlink in the way of a path is refused, never followed.
 */
export async function restoreTree (blocks: BlockSource, keys: UserKeys, root: CID, path: string, toDir: string): Promise<RestoreResult> {
  let clean: string
  try { clean = pathParts(path.split('/').filter(p => p !== '' && p !== '.').join('/')).join('/') } catch {
    throw new PathNotFoundError(`path ${JSON.stringify(path)} leaves the folder`)
  }
  const entry = await findEntry(blocks, keys, root, clean)
  const folder = await SafeFolder.open(toDir)
  const result: RestoreResult = { files: 0, bytes: 0, paths: [] }
  if (clean === '' && entry.kind !== 'dir') throw new UnsafePathError('the snapshot root is not a directory')
  await place(blocks, keys, entry, folder, clean, result)
  if (entry.kind === 'dir') {
    const dirs: Array<{ rel: string, mode: number, mtimeMs: number }> = []
    // files are written RESTORE_CONCURRENCY at a time; a directory is created before anything inside it
    const inFlight = new Set<Promise<void>>()
    let failed: Error | undefined
    for await (const item of walkTree(blocks, keys, entry.dir, { prefix: clean })) {
      if (item.entry.kind === 'dir') {
        await place(blocks, keys, item.entry, folder, item.path, result)
        dirs.push({ rel: item.path, mode: item.entry.mode, mtimeMs: item.entry.mtimeMs })
        continue
      }
      if (failed !== undefined) break
      const p: Promise<void> = place(blocks, keys, item.entry, folder, item.path, result)
        .catch(err => { failed ??= err as Error })
        .finally(() => { inFlight.delete(p) })
      inFlight.add(p)
      if (inFlight.size >= RESTORE_CONCURRENCY) await Promise.race(inFlight)
    }
    await Promise.all(inFlight)
    if (failed !== undefined) throw failed
    for (const d of dirs.reverse()) await folder.setDirMeta(d.rel, d)
  }
  return result
}
