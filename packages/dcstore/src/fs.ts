import { appendFile, mkdir, open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'

export async function writeFileAtomic (path: string, data: string | Uint8Array): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}`
  const handle = await open(tmp, 'w', 0o600)
  try { await handle.writeFile(data); await handle.sync() } finally { await handle.close() }
  await rename(tmp, path)
}

/** Appends and fsyncs. */
export async function appendDurable (path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  await appendFile(path, data, { mode: 0o600 })
  const handle = await open(path, 'r')
  try { await handle.sync() } finally { await handle.close() }
}
