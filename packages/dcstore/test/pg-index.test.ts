import { after, before, describe, it } from 'node:test'
import pg from 'pg'
import { createPgIndex, globToRegex } from '../src/index.js'
import { versionIndexSuite } from './index-suite.js'
import { findPostgresBin, startPrivateCluster, type PrivateCluster } from './postgres.js'
import assert from 'node:assert/strict'

// Runs the VersionIndex contract against PostgreSQL in a private cluster.
// Without Debian's postgresql this is skipped locally; in CI (CI=true, where
// .ci/run installs it) a missing server is a failure.
const bin = await findPostgresBin()
if (bin === undefined && process.env.CI === 'true') throw new Error('PostgreSQL server binaries not found (apt-get install postgresql)')

describe('globToRegex', () => {
  it('means what SQLite GLOB means', () => {
    const cases: Array<[string, string, boolean]> = [
      ['docs/*', 'docs/a/b.txt', true], ['*.txt', 'a.txt', true], ['*.txt', 'a.txt.bak', false], ['?.md', 'a.md', true],
      ['[ab]*', 'b1', true], ['[!ab]*', 'b1', false], ['a.b', 'axb', false], ['(x)+', '(x)+', true]
    ]
    for (const [glob, path, match] of cases) assert.equal(new RegExp(globToRegex(glob)).test(path), match, `${glob} ~ ${path}`)
  })
})

describe('PostgreSQL index', { skip: bin === undefined ? 'Debian postgresql not installed' : false }, () => {
  let cluster: PrivateCluster
  let db = 0
  before(async () => { cluster = await startPrivateCluster(bin!) })
  after(async () => { await cluster?.stop() })

  versionIndexSuite('postgresql', async () => {
    const name = `index_${db++}`
    const admin = new pg.Client({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: 'postgres' })
    await admin.connect()
    await admin.query(`CREATE DATABASE ${name}`)
    await admin.end()
    return { index: createPgIndex({ host: '127.0.0.1', port: cluster.port, user: 'postgres', database: name }), cleanup: async () => {} }
  })
})
