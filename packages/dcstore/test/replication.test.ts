import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { appendFile, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Blockstore } from '@cachecloud/blockstore'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { generateX25519KeyPair, ReplicationRefusedError, type PersonalFolder } from '@cachecloud/personal'
import { AuditChainBrokenError, createDcStore, type DcStore } from '../src/index.js'
import { startNodeSync } from './node-sync.js'
import { TEST_AUDIT_KEY } from './test-audit-key.js'

const MARKER = 'SECRET-PAYROLL-MARKER-51c0ffee'

async function treeHashes (dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const d of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? d.name : `${prefix}/${d.name}`
    if (d.isDirectory()) Object.assign(out, await treeHashes(dir, rel))
    else if (d.isFile()) out[rel] = createHash('sha256').update(await readFile(join(dir, rel))).digest('hex')
  }
  return out
}

async function grep (dir: string, needle: string): Promise<string[]> {
  const hits: string[] = []
  for (const name of await readdir(dir, { recursive: true })) {
    const p = join(dir, name)
    if ((await stat(p)).isFile() && (await readFile(p)).includes(Buffer.from(needle))) hits.push(p)
  }
  return hits
}

describe('replication to the data-center store (real libp2p on loopback)', () => {
  let dir: string
  const discovery = generateX25519KeyPair()
  let storeHost: CachePointLibp2p
  let nodeHost: CachePointLibp2p
  let store: DcStore
  let blockstore: Blockstore
  let sync: PersonalFolder
  let folder: string
  const versions: Array<{ time: string, hashes: Record<string, string> }> = []

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-'))
    folder = join(dir, 'alice')
    await mkdir(join(folder, 'docs'), { recursive: true })
    storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    nodeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    ;({ blockstore, sync } = await startNodeSync({ dir, user: 'alice', folder, nodeHost, storeHost, discoveryKey: discovery.publicKey }))
  })

  after(async () => {
    await store?.stop()
    await blockstore.stop()
    await nodeHost.stop()
    await storeHost.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('takes several snapshots while the store is down; replication fails and they stay pending', async () => {
    await writeFile(join(folder, 'docs/payroll.txt'), `${MARKER}\n`.repeat(200))
    await writeFile(join(folder, 'docs/big.bin'), createHash('sha256').update('x').digest().toString('hex').repeat(40_000))
    await writeFile(join(folder, 'todo.md'), '- one\n')
    for (let i = 0; i < 3; i++) {
      if (i > 0) {
        await appendFile(join(folder, 'todo.md'), `- item ${i}\n`)
        await writeFile(join(folder, `new-${i}.txt`), `file ${i}\n`)
        if (i === 2) await rm(join(folder, 'new-1.txt'))
      }
      const s = await sync.snapshot()
      assert.equal(s.created, true)
      versions.push({ time: s.time, hashes: await treeHashes(folder) })
      await new Promise(resolve => setTimeout(resolve, 15))
    }
    await assert.rejects(sync.replicate()) // nothing listens for the protocol yet
    assert.equal((await sync.status()).pendingSnapshots, 3)
  })

  it('an unenrolled node is refused', async () => {
    store = createDcStore({ auditKey: TEST_AUDIT_KEY, path: join(dir, 'store'), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'test' })
    await store.start()
    await assert.rejects(sync.replicate(), (err: Error) => err instanceof ReplicationRefusedError && err.reason === 'node-not-enrolled')
  })

  it('a node enrolled for another user cannot write alice', async () => {
    await store.enroll(nodeHost.peerId.toString(), ['bob'])
    await assert.rejects(sync.replicate(), (err: Error) => err instanceof ReplicationRefusedError && err.reason === 'user-not-enrolled')
    assert.deepEqual(await store.discovery.search({ user: 'alice' }), [])
  })

  it('once enrolled, everything replicates; discovery at each snapshot time reconstructs the exact tree', async () => {
    await store.enroll(nodeHost.peerId.toString(), ['alice'])
    const r = await sync.replicate()
    assert.equal(r.replicated, 3)
    assert.equal((await sync.status()).pendingSnapshots, 0)
    for (const [i, v] of versions.entries()) {
      const tree = await store.discovery.treeAt('alice', v.time)
      assert.deepEqual(Object.fromEntries(tree.files.map(f => [f.path, f.sha256])), v.hashes, `tree at snapshot ${i}`)
      const out = join(dir, `export-${i}`)
      const manifest = await store.discovery.export('alice', v.time, out)
      assert.deepEqual(await treeHashes(out, ''), { ...v.hashes, 'MANIFEST.json': (await treeHashes(out))['MANIFEST.json'], SHA256SUMS: (await treeHashes(out)).SHA256SUMS })
      assert.equal(manifest.files.length, Object.keys(v.hashes).length)
      assert.equal(manifest.provenance[0].node, nodeHost.peerId.toString())
    }
    const diff = await store.discovery.diff('alice', versions[0].time, versions[2].time)
    assert.deepEqual(diff.added.map(f => f.path), ['new-2.txt'])
    assert.deepEqual(diff.changed.map(c => c.after.path), ['todo.md'])
    assert.deepEqual(diff.deleted, [])
    const timeline = await store.discovery.timeline('alice')
    assert.deepEqual(timeline.map(t => [t.added, t.changed, t.deleted]), [[3, 0, 0], [1, 1, 0], [1, 1, 1]])
    const payroll = versions[0].hashes['docs/payroll.txt']
    assert.equal((await store.discovery.search({ sha256: payroll })).length, 3)
    assert.equal((await store.discovery.search({ glob: 'new-*' })).length, 2)
  })

  it('replicating again sends nothing; an unchanged rescan makes no snapshot', async () => {
    const again = await sync.snapshot()
    assert.equal(again.created, false)
    assert.deepEqual(await sync.replicate(), { replicated: 0, bytesSent: 0, wireBytes: 0, deltas: 0 })
  })

  it('after editing one file, replication sends about the changed bytes', async () => {
    await appendFile(join(folder, 'todo.md'), '- one more\n')
    const s = await sync.snapshot()
    const r = await sync.replicate()
    assert.equal(r.replicated, 1)
    assert.ok(r.bytesSent <= s.newBytes, `${r.bytesSent} sent vs ${s.newBytes} new`)
    assert.ok(r.bytesSent < 2000, `${r.bytesSent} bytes sent for a one-line edit`)
  })

  it('the serving store indexes the text of snapshots as they arrive; a search in a matter finds the private file', async () => {
    const deadline = Date.now() + 30_000
    while ((await store.discovery.text.status()).pending > 0 && Date.now() < deadline) await new Promise(resolve => setTimeout(resolve, 200))
    assert.equal((await store.discovery.text.status()).pending, 0)
    await store.discovery.matters.create({ id: 'R-1', name: 'payroll', custodians: ['alice'] })
    const r = await store.discovery.text.search({ matter: 'R-1', text: '"payroll marker"' })
    assert.deepEqual([...new Set(r.hits.map(h => h.path))], ['docs/payroll.txt'])
    assert.match(r.hits[0].snippet, /\[PAYROLL-MARKER\]|\[PAYROLL MARKER\]/)
  })

  // after the text index holds the private file's words: they are in it as keyed hashes only
  it("the store's files hold no plaintext of a private file", async () => {
    assert.deepEqual((await grep(join(dir, 'store'), MARKER)).filter(p => !p.includes('export')), [])
    assert.ok((await grep(folder, MARKER)).length > 0)
  })

  it('retention removes old snapshots and only the blocks nothing newer needs', async () => {
    // retention goes by the time the store committed each snapshot: just after the first one
    const timeline = await store.discovery.timeline('alice')
    const cut = timeline[0].snapshot.committedMs + 1
    const expected = timeline.filter(t => t.snapshot.committedMs < cut).map(t => t.snapshot.cid)
    const dry = await store.retention(cut, false)
    assert.deepEqual(dry.snapshots.map(s => s.cid), expected)
    assert.ok(expected.length >= 1 && expected.length < 3)
    assert.equal(dry.removedBlocks, 0)
    assert.equal((await store.discovery.timeline('alice')).length, 4)
    const applied = await store.retention(cut, true)
    assert.equal(applied.snapshots.length, expected.length)
    assert.ok(applied.removedBlocks >= 2, `${applied.removedBlocks} blocks removed`) // the old todo.md chunk and the old root
    assert.equal((await store.discovery.timeline('alice')).length, 4 - expected.length)
    const out = join(dir, 'export-after-retention')
    await store.discovery.export('alice', versions[2].time, out)
    const hashes = await treeHashes(out)
    delete hashes['MANIFEST.json']; delete hashes.SHA256SUMS
    assert.deepEqual(hashes, versions[2].hashes)
  })

  it('the audit log records every query and detects an edit', async () => {
    const { entries } = await store.verifyAudit()
    assert.ok(entries >= 10, `${entries} audit entries`)
    const path = join(dir, 'store', 'audit.jsonl')
    const text = await readFile(path, 'utf8')
    await writeFile(path, text.replace('"action":"search"', '"action":"SEARCH"'))
    await assert.rejects(store.verifyAudit(), AuditChainBrokenError)
    await writeFile(path, text.split('\n').slice(0, -2).join('\n') + '\n') // last entry cut off
    await assert.rejects(store.verifyAudit(), AuditChainBrokenError)
    await writeFile(path, text)
    assert.equal((await store.verifyAudit()).entries, entries)
  })
})
