import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function tempDir (prefix: string): Promise<{ path: string, cleanup: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, cleanup: async () => { await rm(path, { recursive: true, force: true }) } }
}

/** path -> hex SHA-256 of every regular file under `dir` (symlinks as 'link:' + target). */
export async function treeHashes (dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const d of (await readdir(join(dir, prefix), { withFileTypes: true })).sort((a, b) => a.name < b.name ? -1 : 1)) {
    const rel = prefix === '' ? d.name : `${prefix}/${d.name}`
    if (d.isDirectory()) Object.assign(out, await treeHashes(dir, rel))
    else if (d.isFile()) out[rel] = createHash('sha256').update(await readFile(join(dir, rel))).digest('hex')
    else if (d.isSymbolicLink()) out[rel] = 'link'
  }
  return out
}

/** True when any file under `dir` contains `needle`. */
export async function anyFileContains (dir: string, needle: string): Promise<string | undefined> {
  const bytes = Buffer.from(needle)
  for (const name of await readdir(dir, { recursive: true })) {
    const p = join(dir, name)
    if (!(await stat(p)).isFile()) continue
    if ((await readFile(p)).includes(bytes)) return p
  }
  return undefined
}
