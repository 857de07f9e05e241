import { open, readdir, stat } from 'node:fs/promises'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBackend } from '../src/index.js'
import { blockBackendSuite } from './backend-suite.js'

/** Flips the last byte of every pack of the user (the pack store verifies every read). */
async function damagePacks (dir: string): Promise<void> {
  for (const name of await readdir(dir)) {
    const path = join(dir, name)
    const { size } = await stat(path)
    if (size === 0) continue
    const h = await open(path, 'r+')
    try {
      const b = Buffer.alloc(1)
      await h.read(b, 0, 1, size - 1)
      b[0] ^= 0xff
      await h.write(b, 0, 1, size - 1)
    } finally { await h.close() }
  }
}

blockBackendSuite('local directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dcbackend-local-'))
  const make = async (): Promise<ReturnType<typeof createBackend>> => { const b = createBackend({ kind: 'local' }, dir); await b.start(); return b }
  return {
    backend: await make(),
    reopen: make,
    damage: async (user) => { await damagePacks(join(dir, 'blocks', user, 'packs')) },
    cleanup: async () => { await rm(dir, { recursive: true, force: true }) }
  }
})
