import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function tempDir (prefix = 'blockstore-'): Promise<string> {
  return await mkdtemp(join(tmpdir(), prefix))
}
