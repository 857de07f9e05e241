import { constants } from 'node:fs'
import { lstat, mkdir, open, realpath, rename, rm, symlink, lchown, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { TEMP_MARKER } from './constants.js'
import { UnsafePathError } from './errors.js'

// Writing a snapshot's tree into a folder (restore, merge, discovery export)
// without ever leaving it (docs/formats/personal.md#writing-a-tree): every
// component below the folder is looked at with lstat and created one at a
// time, a symlink or non-directory on the way is refused, a file is written to
// a new temporary (O_CREAT | O_EXCL | O_NOFOLLOW) inside a parent whose real
// path was checked and then renamed into place, and permission bits only
// (never setuid, setgid or sticky) are applied, through the open handle. A
// tree's names are not trusted: a symlink `docs` restored first cannot be
// followed by `docs/authorized_keys` later.

const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_DIRECTORY } = constants
/** Mode bits a restore applies: permissions only. */
export const RESTORED_MODE_MASK = 0o777

/** Splits a relative path, refusing anything that could climb out ('', '.', '..', NUL). */
export function pathParts (rel: string): string[] {
  if (rel === '') return []
  const parts = rel.split('/')
  for (const p of parts) {
    if (p === '' || p === '.' || p === '..' || p.includes('\0')) throw new UnsafePathError(`path ${JSON.stringify(rel)} leaves the folder`)
  }
  return parts
}

export interface WriteMeta { mode: number, mtimeMs: number }

/**
 * A folder that trees are written into. Files and directories created in it
 * are given the folder owner's uid and gid (when running as root), so a
 * restore by root into alice's folder leaves files alice owns.
 */
export class SafeFolder {
  private constructor (readonly root: string, readonly owner: { uid: number, gid: number }) {}

  /** Opens (creating if missing) the folder; its own path may hold symlinks (the caller chose it). */
  static async open (path: string): Promise<SafeFolder> {
    await mkdir(path, { recursive: true })
    const root = await realpath(path)
    const st = await lstat(root)
    if (!st.isDirectory()) throw new UnsafePathError(`${path} is not a directory`)
    return new SafeFolder(root, { uid: st.uid, gid: st.gid })
  }

  private get chowns (): boolean { return process.getuid?.() === 0 }

  private unsafe (rel: string, why: string): never {
    throw new UnsafePathError(`refusing ${JSON.stringify(rel)} in ${this.root}: ${why}`)
  }

  /**
   * The absolute path of `rel`, checking every existing parent component is a
   * real directory; a missing one is fine (there is nothing there to follow).
   * For reading, renaming and deleting.
   */
  async resolve (rel: string): Promise<string> {
    const parts = pathParts(rel)
    let abs = this.root
    for (const [i, part] of parts.entries()) {
      abs = join(abs, part)
      if (i === parts.length - 1) break
      const st = await lstat(abs).catch(() => undefined)
      if (st === undefined) return join(abs, ...parts.slice(i + 1))
      if (!st.isDirectory()) this.unsafe(rel, `${parts.slice(0, i + 1).join('/')} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}`)
    }
    return abs
  }

  /** Creates `rel` and each missing parent, one component at a time; refuses a symlink or non-directory on the way. */
  async mkdirs (rel: string): Promise<string> {
    const parts = pathParts(rel)
    let abs = this.root
    for (const [i, part] of parts.entries()) {
      abs = join(abs, part)
      let st = await lstat(abs).catch(() => undefined)
      if (st === undefined) {
        try {
          await mkdir(abs)
          if (this.chowns) await lchown(abs, this.owner.uid, this.owner.gid)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        }
        st = await lstat(abs)
      }
      if (!st.isDirectory()) this.unsafe(rel, `${parts.slice(0, i + 1).join('/')} is ${st.isSymbolicLink() ? 'a symlink' : 'not a directory'}`)
    }
    // nothing swapped a component for a symlink between the checks and now
    if (await realpath(abs) !== abs) this.unsafe(rel, 'a parent changed into a symlink while being checked')
    return abs
  }

  /** The parent directory of `rel`, created and verified, and the entry's name. */
  private async parentOf (rel: string): Promise<{ dir: string, name: string, abs: string }> {
    const parts = pathParts(rel)
    if (parts.length === 0) this.unsafe(rel, 'the folder itself is not a file')
    const dir = await this.mkdirs(parts.slice(0, -1).join('/'))
    const name = parts[parts.length - 1]
    return { dir, name, abs: join(dir, name) }
  }

  /** What may be replaced at a path: nothing, a regular file or a symlink (never a directory or a special file). */
  private async replaceable (rel: string, abs: string): Promise<void> {
    const st = await lstat(abs).catch(() => undefined)
    if (st !== undefined && !st.isFile() && !st.isSymbolicLink()) this.unsafe(rel, st.isDirectory() ? 'a directory is in the way' : 'a special file is in the way')
  }

  /** A new temporary beside the target, created exclusively (never through a symlink). */
  private async createTemp (dir: string, name: string): Promise<{ path: string, handle: FileHandle }> {
    const path = join(dir, `.${name}${TEMP_MARKER}${process.pid}`)
    for (let attempt = 0; ; attempt++) {
      try {
        return { path, handle: await open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600) }
      } catch (err) {
        // one left by a crash of a process with this pid: ours to remove (rm does not follow a symlink)
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw err
        await rm(path, { force: true })
      }
    }
  }

  /**
   * Writes a file atomically (temporary, then rename) with permission bits and
   * mtime applied through the handle. A failure of `content` removes the
   * temporary and leaves the target as it was.
   */
  async writeFile (rel: string, content: AsyncIterable<Uint8Array>, meta: WriteMeta): Promise<string> {
    const { dir, name, abs } = await this.parentOf(rel)
    await this.replaceable(rel, abs)
    const tmp = await this.createTemp(dir, name)
    try {
      for await (const piece of content) await tmp.handle.write(piece)
      await tmp.handle.chmod(meta.mode & RESTORED_MODE_MASK)
      if (this.chowns) await tmp.handle.chown(this.owner.uid, this.owner.gid)
      const t = new Date(meta.mtimeMs)
      await tmp.handle.utimes(t, t)
    } catch (err) {
      await tmp.handle.close()
      await rm(tmp.path, { force: true })
      throw err
    }
    await tmp.handle.close()
    await this.replaceable(rel, abs)
    await rename(tmp.path, abs)
    return abs
  }

  /** Creates a symlink (temporary, then rename: an existing file or symlink is replaced, a directory is not). */
  async symlink (rel: string, target: string): Promise<string> {
    const { dir, name, abs } = await this.parentOf(rel)
    await this.replaceable(rel, abs)
    const tmp = join(dir, `.${name}${TEMP_MARKER}${process.pid}`)
    await rm(tmp, { force: true })
    await symlink(target, tmp)
    if (this.chowns) await lchown(tmp, this.owner.uid, this.owner.gid)
    await rename(tmp, abs)
    return abs
  }

  /** Applies a directory's permission bits and mtime through a handle opened without following a symlink. */
  async setDirMeta (rel: string, meta: WriteMeta): Promise<void> {
    const abs = await this.resolve(rel)
    const handle = await open(abs, O_RDONLY | O_DIRECTORY | O_NOFOLLOW).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ELOOP' || err.code === 'ENOTDIR') this.unsafe(rel, 'not a directory')
      throw err
    })
    try {
      await handle.chmod(meta.mode & RESTORED_MODE_MASK)
      const t = new Date(meta.mtimeMs)
      await handle.utimes(t, t)
    } finally {
      await handle.close()
    }
  }
}
