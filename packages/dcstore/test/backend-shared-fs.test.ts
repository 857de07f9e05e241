import { mkdtemp, rm, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBackend } from '../src/index.js'
import { blockBackendSuite } from './backend-suite.js'

blockBackendSuite('shared filesystem', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dcbackend-shared-'))
  const make = async (): Promise<ReturnType<typeof createBackend>> => { const b = createBackend({ kind: 'shared-fs', path: dir }, '/nonexistent'); await b.start(); return b }
  return {
    backend: await make(),
    reopen: make,
    // a torn object: what a writer without the temporary-then-link discipline would leave
    damage: async (user, cid) => { const name = cid.toString(); await truncate(join(dir, 'blocks', user, 'objects', name.slice(-2), name), 100) },
    cleanup: async () => { await rm(dir, { recursive: true, force: true }) }
  }
})
