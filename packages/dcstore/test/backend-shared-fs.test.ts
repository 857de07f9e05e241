import { mkdtemp, rm, truncate } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBackend } from '../src/index.js'
import { after } from 'node:test'
import { blockBackendSuite } from './backend-suite.js'
import { replicationOnBackend } from './backend-replication.js'

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

let shared: string | undefined
replicationOnBackend('a shared filesystem path', () => {
  shared = join(tmpdir(), `dcstore-shared-${process.pid}-${Date.now()}`)
  return { kind: 'shared-fs', path: shared }
})
after(async () => { if (shared !== undefined) await rm(shared, { recursive: true, force: true }) })
