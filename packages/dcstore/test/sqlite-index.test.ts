import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSqliteIndex } from '../src/index.js'
import { versionIndexSuite } from './index-suite.js'

versionIndexSuite('sqlite', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'dcindex-'))
  return { index: createSqliteIndex(join(dir, 'index.sqlite')), cleanup: async () => { await rm(dir, { recursive: true, force: true }) } }
})
