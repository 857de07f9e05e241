import { writeFileAtomic as writeAtomic } from '@cachecloud/core'

/** Key files and other private small files: replaced atomically, mode 0600. */
export async function writeFileAtomic (path: string, data: string): Promise<void> {
  await writeAtomic(path, data, { mode: 0o600 })
}
