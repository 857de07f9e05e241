import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createBlockstore } from '@cachecloud/blockstore'
import { DirectoryOrderError, generateX25519KeyPair } from '@cachecloud/personal'
import { Crafter } from '@cachecloud/personal/testing'
import { createDcStore, createSqliteIndex, STORE_FILES } from '../src/index.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const NODE = '12D3KooWForgedNodeForgedNodeForgedNodeForged0001'

// Snapshots already in a store (committed before the decoder checked names,
// or legitimately holding symlinks) exported by the discovery officer: the
// export writes only inside its folder and never creates a symlink.
describe('discovery export writes only inside its folder', () => {
  let dir: string
  let outside: string
  const discovery = generateX25519KeyPair()
  let t = Date.parse('2026-11-01T00:00:00Z')

  /** Puts a crafted snapshot straight into the store's block store and index (the store is stopped). */
  const place = async (user: string, build: (c: Crafter) => ReturnType<Crafter['dirBlock']>): Promise<string> => {
    const c = new Crafter()
    const root = build(c)
    const time = new Date(t += 60_000).toISOString()
    const rec = c.record({ user, node: NODE, discoveryPublicKey: discovery.publicKey, root, time })
    const blocks = createBlockstore({ path: join(dir, 'store', STORE_FILES.blocks, user) })
    await blocks.start()
    await c.storeInto(blocks)
    await blocks.stop()
    const index = createSqliteIndex(join(dir, 'store', STORE_FILES.index))
    await index.start()
    await index.commitSnapshot(
      { cid: rec.cid.toString(), user, node: NODE, timeMs: Date.parse(time), parent: null, root: root.toString(), files: 0, bytes: 0, committedMs: Date.now() },
      []
    )
    await index.stop()
    return time
  }

  const exportOf = async (user: string, at: string, to: string): ReturnType<ReturnType<typeof createDcStore>['discovery']['export']> => {
    const store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), discoveryPrivateKey: discovery.privateKey, operator: 'officer' })
    await store.start()
    try { return await store.discovery.export(user, at, to) } finally { await store.stop() }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-export-'))
    outside = join(dir, 'outside')
    await mkdir(join(dir, 'store', STORE_FILES.blocks), { recursive: true })
    await mkdir(outside)
  })
  after(async () => { await rm(dir, { recursive: true, force: true }) })

  it('a tree naming `docs` twice (a symlink to /outside, then a directory with authorized_keys) fails the export; nothing is written outside', async () => {
    const at = await place('mallory', c => c.dirBlock([c.link('docs', outside), c.dir('docs', [c.file('authorized_keys', 'ssh-ed25519 AAAA attacker\n')])]))
    await assert.rejects(exportOf('mallory', at, join(dir, 'case-1')), DirectoryOrderError)
    assert.deepEqual(await readdir(outside), [])
  })

  it('symlinks are recorded in MANIFEST.json, not created; names with a newline are escaped in SHA256SUMS (sha256sum -c passes)', async () => {
    const evil = 'evil\n0000000000000000000000000000000000000000000000000000000000000000  injected.txt'
    const at = await place('alice', c => c.dirBlock([c.link('docs', outside), c.file('a.txt', 'hello\n'), c.file(evil, 'x'), c.file('back\\slash', 'y')]))
    const to = join(dir, 'case-2')
    const m = await exportOf('alice', at, to)
    assert.deepEqual(m.symlinks, [{ path: 'docs', node: NODE, target: outside }])
    await assert.rejects(lstat(join(to, 'docs')), { code: 'ENOENT' })
    const manifest = JSON.parse(await readFile(join(to, 'MANIFEST.json'), 'utf8')) as { symlinks: unknown[] }
    assert.deepEqual(manifest.symlinks, m.symlinks)
    const sums = await readFile(join(to, 'SHA256SUMS'), 'utf8')
    assert.equal(sums.split('\n').filter(l => l !== '').length, 3, sums)
    assert.ok(!sums.includes('\n0000000000000000000000000000000000000000000000000000000000000000  injected.txt'))
    execFileSync('sha256sum', ['--strict', '-c', 'SHA256SUMS'], { cwd: to, stdio: 'pipe' })
    assert.deepEqual(await readdir(outside), [])
  })
})
