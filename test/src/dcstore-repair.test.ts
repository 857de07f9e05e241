import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createDcStore, readAuditKey, type CheckReport, type RepairReport } from '@cachecloud/dcstore'
import { parseX25519Key } from '@cachecloud/personal'
import { dcstore, DCSTORE_CLI, freePort, launch, NODE_CHILD, run, treeHashes, type Proc } from './personal-procs.js'

function randomish (seed: string, length: number): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(length))
}

const USERS = ['alice', 'bob', 'carol'] as const
type User = typeof USERS[number]

describe('dcstore check --repair: damaged and lost blocks come back from the nodes\' next replication (real processes)', () => {
  let dir: string
  let keyFile: string
  let storeData: string
  let discoveryPublic: string
  let port: number
  let store: Proc | undefined
  let storeAddr = ''
  const home = (u: User): string => join(dir, `node-${u}`)
  const folder = (u: User): string => join(dir, u)
  const common = (u: User): string[] => ['--home', home(u), '--folder', folder(u), '--user', u, '--discovery', discoveryPublic]
  const nodes = new Map<User, string>()
  /** Per user: the folder's hashes as of each time (after that snapshot replicated, before the next). */
  const versions = new Map<User, Array<{ at: string, hashes: Record<string, string> }>>()

  const startStore = async (): Promise<void> => {
    store = launch(DCSTORE_CLI, ['--data', storeData, '--discovery-key', keyFile, 'serve', '--listen', `/ip4/127.0.0.1/tcp/${port}`])
    const ready = await store.waitFor(e => e.peerId !== undefined)
    storeAddr = `/ip4/127.0.0.1/tcp/${port}/p2p/${String(ready.peerId)}`
  }
  const stopStore = async (): Promise<void> => { store!.child.kill('SIGTERM'); await store!.exited; store = undefined }
  /** A snapshot of the user's folder and its replication; the version is recorded once the store has it. */
  const snapshotAndReplicate = async (u: User): Promise<{ replicated: number, bytesSent: number }> => {
    await run(NODE_CHILD, ['snapshot', ...common(u)])
    const out = await run(NODE_CHILD, ['replicate', ...common(u), '--store', storeAddr])
    const r = out.split('\n').filter(l => l !== '').map(l => JSON.parse(l) as { event: string, replicated: number, bytesSent: number }).find(e => e.event === 'replicated')!
    await sleep(5)
    versions.get(u)!.push({ at: new Date().toISOString(), hashes: await treeHashes(folder(u)) })
    await sleep(5)
    return r
  }
  const check = async (...args: string[]): Promise<{ code: number | null, report: CheckReport, text: string }> => {
    const r = await dcstore('--data', storeData, '--json', 'check', ...args)
    return { code: r.code, report: JSON.parse(r.stdout) as CheckReport, text: r.stderr }
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dcstore-repair-'))
    keyFile = join(dir, 'discovery.key')
    storeData = join(dir, 'store')
    discoveryPublic = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    port = await freePort()
    for (const u of USERS) {
      versions.set(u, [])
      for (let d = 0; d < 2; d++) {
        await mkdir(join(folder(u), `d${d}`), { recursive: true })
        for (let f = 0; f < 6; f++) await writeFile(join(folder(u), `d${d}`, `f${f}.bin`), randomish(`${u}/${d}/${f}`, 20_000 + f * 7000))
      }
      const peer = JSON.parse(await run(NODE_CHILD, ['peer-id', '--home', home(u)])) as { peerId: string }
      nodes.set(u, peer.peerId)
      await run(DCSTORE_CLI, ['--data', storeData, 'enroll', peer.peerId, '--user', u])
    }
  })

  after(async () => {
    store?.child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('corrupt pack bytes, a deleted pack and a truncated index log: each named, repaired, re-replicated, every version restores bit-identical', async () => {
    await startStore()
    // two snapshots per user: the first holds blocks (the old f0, f1) that the second no longer has
    await Promise.all(USERS.map(async u => { await snapshotAndReplicate(u) }))
    // (carol's index log is what is damaged: one snapshot will do)
    await Promise.all((['alice', 'bob'] as const).map(async u => {
      await writeFile(join(folder(u), 'd0', 'f0.bin'), randomish(`${u}/changed`, 31_000))
      await unlink(join(folder(u), 'd1', 'f1.bin'))
      await writeFile(join(folder(u), 'd1', 'new.bin'), randomish(`${u}/new`, 12_000))
      await snapshotAndReplicate(u)
    }))
    await stopStore()

    // the damage: bytes of alice's pack flipped, bob's pack deleted, carol's index log cut in half
    const packs = async (u: User): Promise<string[]> => (await readdir(join(storeData, 'blocks', u, 'packs'))).map(p => join(storeData, 'blocks', u, 'packs', p))
    const [alicePack] = await packs('alice')
    const bytes = await readFile(alicePack)
    for (let i = 0; i < 64; i++) bytes[Math.floor(bytes.byteLength * 0.3) + i] ^= 0xff
    await writeFile(alicePack, bytes)
    for (const p of await packs('bob')) await unlink(p)
    const carolLog = join(storeData, 'blocks', 'carol', 'index.log')
    await truncate(carolLog, Math.floor((await stat(carolLog)).size / 2))

    const damaged = await check('--read-data')
    assert.equal(damaged.code, 6)
    const kinds = (u: User): string[] => damaged.report.damage.filter(d => d.user === u).map(d => d.kind)
    assert.ok(kinds('alice').includes('block-corrupt'), JSON.stringify(damaged.report.damage))
    assert.ok(kinds('bob').includes('pack-missing'), JSON.stringify(damaged.report.damage))
    assert.ok(kinds('carol').includes('index-log'), JSON.stringify(damaged.report.damage))
    for (const u of ['alice', 'bob'] as const) assert.ok(damaged.report.affected.some(a => a.user === u), `${u}'s snapshots are affected`)

    // the repair: carol's blocks are taken back from her packs (verified); alice's and bob's snapshots wait for their nodes
    const t0 = Date.now()
    const repaired = await dcstore('--data', storeData, '--json', 'check', '--read-data', '--repair')
    const repairMs = Date.now() - t0
    assert.equal(repaired.code, 6, repaired.stderr)
    const r = JSON.parse(repaired.stdout) as RepairReport
    assert.ok(r.droppedBlocks > 0)
    assert.deepEqual(r.repairedUsers, ['alice', 'bob', 'carol'])
    assert.deepEqual([...new Set(r.pending.map(p => p.user))].sort(), ['alice', 'bob'])
    assert.ok(r.pending.filter(p => p.user === 'bob').length === 2, 'both of bob\'s snapshots lost blocks')
    assert.ok(r.after.damage.every(d => d.kind === 'awaiting-replication' || d.kind === 'block-missing'), JSON.stringify(r.after.damage))
    assert.ok(!r.after.damage.some(d => d.user === 'carol'), 'carol is whole again without replication')

    // until the nodes replicate, check says which user and node must (exit 6), in words too
    const words = await dcstore('--data', storeData, 'check')
    assert.equal(words.code, 6)
    for (const u of ['alice', 'bob'] as const) assert.match(words.stdout, new RegExp(`^damaged: user ${u}: \\d snapshots? of node ${nodes.get(u)!} lacks? blocks a repair dropped: node ${nodes.get(u)!} must replicate user ${u}`, 'm'))
    assert.doesNotMatch(words.stdout, /user carol/)

    // the next replication of each (the nodes' ordinary one, of a new snapshot) re-sends what the store lacks
    await startStore()
    await Promise.all((['alice', 'bob'] as const).map(async u => {
      await writeFile(join(folder(u), 'd0', 'later.txt'), `${u} later\n`)
      const again = await snapshotAndReplicate(u)
      assert.equal(again.replicated, 1)
    }))
    await stopStore()
    const clean = await check('--read-data')
    assert.equal(clean.code, 0, JSON.stringify(clean.report.damage))
    assert.equal(clean.report.affected.length, 0)

    // every version of every user exports bit-identical to the folder as it was (one store opened for all: the CLI's export, in process)
    const { privateKey } = JSON.parse(await readFile(keyFile, 'utf8')) as { privateKey: string }
    const exporter = createDcStore({
      path: storeData,
      create: false,
      discoveryPrivateKey: parseX25519Key(privateKey),
      auditKey: await readAuditKey(process.env.DCSTORE_AUDIT_KEY!, storeData)
    })
    await exporter.start()
    try {
      for (const u of USERS) {
        for (const [i, v] of versions.get(u)!.entries()) {
          const out = join(dir, `export-${u}-${i}`)
          await exporter.discovery.export(u, v.at, out)
          const exported = await treeHashes(out)
          delete exported['MANIFEST.json']; delete exported.SHA256SUMS
          assert.deepEqual(exported, v.hashes, `${u} as of ${v.at}`)
        }
      }
    } finally { await exporter.stop() }
    process.stdout.write(`# repair of the fixture (3 users, 5 snapshots, ${r.before.readBytes} bytes read): ${r.seconds.toFixed(2)} s in the store, ${repairMs} ms for the whole check --read-data --repair process\n`)
  })
})
