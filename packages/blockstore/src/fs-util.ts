/** Small file-system helpers for the block store. */
import fs from 'node:fs'
import { promisify } from 'node:util'
import { DiskFullError } from './errors.js'

const open = promisify(fs.open)
const close = promisify(fs.close)
const fsync = promisify(fs.fsync)

export function errorCode (err: unknown): string | undefined {
  return (err as NodeJS.ErrnoException | null)?.code
}

export function isNotFound (err: unknown): boolean {
  return errorCode(err) === 'ENOENT'
}

/** Rethrows ENOSPC and EDQUOT as DiskFullError with a one-line message; other errors unchanged. */
export function mapDiskFull (err: unknown, what: string): unknown {
  const code = errorCode(err)
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new DiskFullError(`disk full (${code}) while ${what}`, { cause: err })
  }
  return err
}

/** fsync of a file or directory by path; a missing path (deleted since) is not an error. */
export async function fsyncPath (path: string): Promise<void> {
  let fd: number
  try {
    fd = await open(path, 'r')
  } catch (err) {
    if (isNotFound(err)) return
    throw err
  }
  try {
    await fsync(fd)
  } finally {
    await close(fd)
  }
}

/** Writes a small file atomically and durably: temp file, fsync, rename, fsync of the directory. */
export async function writeFileDurably (path: string, dir: string, text: string): Promise<void> {
  const tmp = `${path}.tmp`
  await fs.promises.writeFile(tmp, text)
  await fsyncPath(tmp)
  await fs.promises.rename(tmp, path)
  await fsyncPath(dir)
}
