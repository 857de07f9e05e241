import { appendFile, mkdir, open } from 'node:fs/promises'
import { writeFileAtomic } from '@cachecloud/core'
import { dirname } from 'node:path'

/** Small files replaced atomically (mode 0600: the store's metadata is private). */
export async function writeFileAtomic600 (path: string, data: string | Uint8Array): Promise<void> {
  await writeFileAtomic(path, data, { mode: 0o600 })
}

/** Appends and fsyncs. */
export async function appendDurable (path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await appendFile(path, data, { mode: 0o600 })
  const handle = await open(path, 'r')
  try { await handle.sync() } finally { await handle.close() }
}
