/**
 * Small file-system helpers. The write path uses the callback API: it costs
 * fewer promise hops per block than FileHandle, which shows at 2 GB/s.
 */
import fs from 'node:fs'
import { promisify } from 'node:util'
import { DiskFullError } from './errors.js'

const open = promisify(fs.open)
const write = promisify(fs.write)
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

/** Creates `path` (which must not exist) holding `bytes`; on failure the partial file is removed. */
export async function writeNewFile (path: string, bytes: Uint8Array): Promise<void> {
  const fd = await open(path, 'wx')
  try {
    let offset = 0
    while (offset < bytes.byteLength) {
      offset += (await write(fd, bytes, offset, bytes.byteLength - offset, null)).bytesWritten
    }
  } catch (err) {
    await close(fd).catch(() => {})
    await fs.promises.rm(path, { force: true }).catch(() => {})
    throw err
  }
  await close(fd)
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

/** Runs `fn` over `items` with at most `concurrency` calls in flight. */
export async function forEachBounded<T> (items: Iterable<T>, concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  const iterator = items[Symbol.iterator]()
  const worker = async (): Promise<void> => {
    for (let next = iterator.next(); next.done !== true; next = iterator.next()) {
      await fn(next.value)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker))
}
