import { mkdir, open, rename } from 'node:fs/promises'
import { dirname } from 'node:path'

export async function writeFileAtomic (path: string, data: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = `${path}.tmp-${process.pid}`
  const handle = await open(tmp, 'w', 0o600)
  try { await handle.writeFile(data); await handle.sync() } finally { await handle.close() }
  await rename(tmp, path)
}
