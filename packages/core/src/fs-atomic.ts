import { randomBytes } from 'node:crypto'
import { mkdir, open, rename, unlink } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'

/** A temporary file name beside `path` (same directory, so rename is atomic). */
export function tempPathBeside (path: string): string {
  return join(dirname(path), `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`)
}

/** fsyncs a directory so a rename or unlink inside it is durable. */
export async function fsyncDir (dir: string): Promise<void> {
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

/**
 * Replaces `path` atomically: temp file, fsync, rename, fsync of the directory.
 * A crash at any point leaves either the old file or the new one, never a mix.
 * Creates the parent directory if needed.
 */
export async function writeFileAtomic (path: string, data: string | Uint8Array, options: { mode?: number } = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = tempPathBeside(path)
  try {
    const handle = await open(tmp, 'wx', options.mode ?? 0o644)
    try {
      await handle.writeFile(data)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  await fsyncDir(dirname(path))
}
