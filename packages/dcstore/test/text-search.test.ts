import { join } from 'node:path'
import { mkdtemp } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { after, before, describe } from 'node:test'
import pg from 'pg'
import { createPgIndex, createSqliteIndex } from '../src/index.js'
import { textSearchSuite } from './text-search-suite.js'
import { findPostgresBin, startPrivateCluster, type PrivateCluster } from './postgres.js'

const bin = await findPostgresBin()
if (bin === undefined && process.env.CI === 'true') throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)')

textSearchSuite('sqlite', async () => {
  const path = join(await mkdtemp(join(tmpdir(), 'text-index-')), 'index.sqlite')
  return () => createSqliteIndex(path)
})

describe('PostgreSQL', { skip: bin === undefined ? 'Debian postgresql not installed' : false }, () => {
  let cluster: PrivateCluster
  before(async () => { cluster = await startPrivateCluster(bin!) })
  after(async () => { await cluster?.stop() })
  textSearchSuite('postgresql', async () => {
    const admin = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' })
    await admin.connect()
    await admin.query('CREATE DATABASE text')
    await admin.end()
    return () => createPgIndex({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'text' })
  })
})
