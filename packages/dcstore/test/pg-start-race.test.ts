import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createDcStore, createPgIndex } from '../src/index.js'
import { findPostgresBin, startPrivateCluster, type PrivateCluster } from './postgres.js'

// Store processes behind one PostgreSQL index start at once on a new
// database (a fleet restarted, the bench): each runs the schema's CREATE
// TABLE IF NOT EXISTS, which PostgreSQL does not make safe against itself
// ("duplicate key value violates unique constraint pg_type_typname_nsp_index").
// With coordination they take turns.
const bin = await findPostgresBin()
if (bin === undefined && process.env.CI === 'true') throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)')

describe('several store processes starting at once on a new PostgreSQL index', { skip: bin === undefined ? 'Debian postgresql not installed' : false }, () => {
  let cluster: PrivateCluster
  let dir: string
  before(async () => { cluster = await startPrivateCluster(bin!); dir = await mkdtemp(join(tmpdir(), 'dcstore-pgrace-')) })
  after(async () => { await cluster?.stop(); await rm(dir, { recursive: true, force: true }) })

  it('all start; one schema', async () => {
    for (let round = 0; round < 3; round++) {
      const pg = (await import('pg')).default
      const admin = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${cluster.port}/postgres` })
      await admin.connect()
      await admin.query(`CREATE DATABASE race${round}`)
      await admin.end()
      const config = { connectionString: `postgres://postgres@127.0.0.1:${cluster.port}/race${round}` }
      const stores = Array.from({ length: 6 }, (_, i) => createDcStore({ path: join(dir, `r${round}-s${i}`), index: createPgIndex(config), coordination: config }))
      const started = await Promise.allSettled(stores.map(async s => { await s.start() }))
      await Promise.all(stores.map(async s => { await s.stop() }))
      assert.deepEqual(started.filter(r => r.status === 'rejected').map(r => String((r as PromiseRejectedResult).reason)), [])
    }
  })
})
