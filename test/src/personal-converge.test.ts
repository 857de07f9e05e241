import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readdir, readFile, rm, unlink, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { createPersonalFolder, formatX25519Key, generateX25519KeyPair, type PersonalFolder } from '@cachecloud/personal'
import { DCSTORE_CLI, launch, run, treeHashes, type Proc } from './personal-procs.js'

const sha = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex')

interface Machine { host: CachePointLibp2p, blockstore: Blockstore, sync: PersonalFolder, folder: string }

// One user on two machines that both hold the user's X25519 key pair: the
// live folders converge through the store (a real process), conflicting
// edits keep both versions (one in place, one as a conflict copy, both in
// history), and a third machine restores everything from the store alone.
describe('live folders of one user converge through the store', () => {
  let dir: string
  let store: Proc
  let storeData: string
  let storeAddr: string
  let discoveryKey: string
  const machines: Machine[] = []
  const userPair = generateX25519KeyPair()
  const bigFile = randomBytes(300_000)
  let beforeEdits = ''

  const machine = async (name: string, options: { merge?: boolean, enroll?: boolean } = {}): Promise<Machine> => {
    const folder = join(dir, name, 'Documents')
    await mkdir(folder, { recursive: true })
    const host = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
    const blockstore = createBlockstore({ path: join(dir, name, 'blocks') })
    await blockstore.start()
    if (options.enroll !== false) await run(DCSTORE_CLI, ['--data', storeData, 'enroll', host.peerId.toString(), '--user', 'alice'])
    const sync = createPersonalFolder({
      user: 'alice', folder, stateDir: join(dir, name, 'state'), blockstore, node: host.peerId.toString(), discoveryKey,
      userPrivateKey: formatX25519Key(userPair.privateKey), libp2p: host, store: storeAddr, watch: false,
      ...(options.merge === undefined ? {} : { merge: options.merge })
    })
    const m = { host, blockstore, sync, folder }
    machines.push(m)
    return m
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'personal-converge-'))
    storeData = join(dir, 'store')
    const keyFile = join(dir, 'discovery.key')
    discoveryKey = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    store = launch(DCSTORE_CLI, ['--data', storeData, '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0'])
    storeAddr = `${((await store.waitFor(e => e.peerId !== undefined)).addrs as string[])[0]}`
  })

  after(async () => {
    for (const m of machines) { await m.blockstore.stop(); await m.host.stop() }
    store.child.kill('SIGTERM')
    await store.exited
    await rm(dir, { recursive: true, force: true })
  })

  it('a second machine with an empty folder gets the user\'s files, sending next to nothing back', async () => {
    const laptop = await machine('laptop')
    await mkdir(join(laptop.folder, 'notes'))
    await writeFile(join(laptop.folder, 'shared.txt'), 'first draft\n'.repeat(5000))
    await writeFile(join(laptop.folder, 'notes', 'a.txt'), 'note a\n')
    await writeFile(join(laptop.folder, 'b.txt'), 'file b\n')
    await writeFile(join(laptop.folder, 'big.bin'), bigFile)
    await laptop.sync.snapshot()
    await laptop.sync.replicate()
    beforeEdits = new Date().toISOString()

    const desktop = await machine('desktop')
    // its empty folder is not recorded as a snapshot: the laptop's files are merged into it first
    const first = await desktop.sync.snapshot()
    assert.equal(first.created, true)
    assert.equal(first.merged?.applied, 4)
    assert.deepEqual(first.merged?.conflicts, [])
    assert.equal(first.files, 4)
    assert.deepEqual(await treeHashes(desktop.folder), await treeHashes(laptop.folder))
    assert.equal((await desktop.sync.log()).length, 1, 'no empty snapshot before it')
    // same user key on both machines: the merged folder seals to chunks the store already holds
    const back = await desktop.sync.replicate()
    assert.equal(back.replicated, 1)
    assert.ok(back.bytesSent < 20_000, `desktop sent ${back.bytesSent} bytes after taking the laptop's files`)
    // nothing new anywhere: a second pull does nothing
    assert.equal((await laptop.sync.mergeRemotes()).applied, 0)
    assert.equal((await desktop.sync.mergeRemotes()).applied, 0)
  })

  it('concurrent edits: the folders converge, the later edit in place, the other as a conflict copy, both in history', async () => {
    const [laptop, desktop] = machines
    const laptopText = 'edited on the laptop\n'
    const desktopText = 'edited on the desktop\n'
    await writeFile(join(laptop.folder, 'shared.txt'), laptopText)
    const earlier = new Date(Date.now() - 60_000)
    await utimes(join(laptop.folder, 'shared.txt'), earlier, earlier)
    await writeFile(join(laptop.folder, 'notes', 'a.txt'), 'note a, laptop edit\n')
    await writeFile(join(desktop.folder, 'shared.txt'), desktopText)
    await unlink(join(desktop.folder, 'b.txt'))
    await writeFile(join(desktop.folder, 'new.txt'), 'made on the desktop\n')
    for (const m of [laptop, desktop]) { await m.sync.snapshot(); await m.sync.replicate() }

    // both merge before either sends its merged folder: each resolves the conflict alone, and alike
    const first = await laptop.sync.mergeRemotes()
    const second = await desktop.sync.mergeRemotes()
    assert.equal(first.conflicts.length, 1, JSON.stringify(first))
    assert.deepEqual(second.conflicts, first.conflicts, 'both machines name the conflict copy alike')
    for (const m of [laptop, desktop]) await m.sync.replicate()
    for (const m of [laptop, desktop]) assert.deepEqual((await m.sync.mergeRemotes()).conflicts, [])
    // status names the conflict copy as long as it is there
    assert.deepEqual((await laptop.sync.status()).conflicts, first.conflicts)

    const l = await treeHashes(laptop.folder)
    assert.deepEqual(await treeHashes(desktop.folder), l)
    const copies = Object.keys(l).filter(p => p.includes('.conflict-'))
    assert.equal(copies.length, 1, `one conflict copy: ${JSON.stringify(Object.keys(l))}`)
    assert.match(copies[0], /^shared\.conflict-[1-9A-Za-z]{8}-\d{8}-\d{6}\.txt$/)
    assert.equal(l['shared.txt'], sha(desktopText), 'the later edit stays in place')
    assert.equal(l[copies[0]], sha(laptopText), 'the earlier edit is the conflict copy')
    assert.equal(l['notes/a.txt'], sha('note a, laptop edit\n'))
    assert.equal(l['new.txt'], sha('made on the desktop\n'))
    assert.equal(l['big.bin'], sha(bigFile))
    assert.equal(l['b.txt'], undefined, 'the deletion reached the laptop')
    assert.ok(!(await readdir(laptop.folder)).some(n => n.includes('.cachecloud-tmp-')), 'no temporary file left')

    // history at the store: both edits, and the deleted file's last version
    const versions = JSON.parse(await run(DCSTORE_CLI, ['--data', storeData, '--json', 'discover', 'search', '--glob', 'shared*'])) as Array<{ sha256: string }>
    const hashes = new Set(versions.map(v => v.sha256))
    for (const text of ['first draft\n'.repeat(5000), laptopText, desktopText]) assert.ok(hashes.has(sha(text)), `store history has ${JSON.stringify(text.slice(0, 20))}`)
    const b = JSON.parse(await run(DCSTORE_CLI, ['--data', storeData, '--json', 'discover', 'search', '--glob', 'b.txt'])) as Array<{ sha256: string }>
    assert.ok(b.some(v => v.sha256 === sha('file b\n')))

    // after converging, a later edit on one machine is a plain update on the other
    await writeFile(join(desktop.folder, 'notes', 'a.txt'), 'note a, desktop follow-up\n')
    await desktop.sync.snapshot(); await desktop.sync.replicate()
    const follow = await laptop.sync.mergeRemotes()
    assert.deepEqual([follow.applied, follow.conflicts.length], [1, 0])
    assert.equal(await readFile(join(laptop.folder, 'notes', 'a.txt'), 'utf8'), 'note a, desktop follow-up\n')
  })

  it('when the machine with the later edit merges first, the other takes its conflict copy as is (no second copy)', async () => {
    const [laptop, desktop] = machines
    await writeFile(join(laptop.folder, 'plan.txt'), 'plan, laptop\n')
    const earlier = new Date(Date.now() - 120_000)
    await utimes(join(laptop.folder, 'plan.txt'), earlier, earlier)
    await writeFile(join(desktop.folder, 'plan.txt'), 'plan, desktop\n')
    for (const m of [laptop, desktop]) { await m.sync.snapshot(); await m.sync.replicate() }
    const d = await desktop.sync.mergeRemotes()
    assert.equal(d.conflicts.length, 1)
    await desktop.sync.replicate()
    // the laptop's own version is already at the copy's name in what it merges: it is not copied again
    await laptop.sync.mergeRemotes()
    await laptop.sync.replicate()
    await desktop.sync.mergeRemotes()
    const l = await treeHashes(laptop.folder)
    assert.deepEqual(await treeHashes(desktop.folder), l)
    const copies = Object.keys(l).filter(p => p.startsWith('plan.conflict-'))
    assert.deepEqual(copies, d.conflicts)
    assert.equal(l[copies[0]], sha('plan, laptop\n'))
    assert.equal(l['plan.txt'], sha('plan, desktop\n'))
  })

  it('an edit made after taking the other machine\'s edit is an update there, not a conflict', async () => {
    const [laptop, desktop] = machines
    await writeFile(join(laptop.folder, 'notes', 'a.txt'), 'note a, v2 (laptop)\n')
    await laptop.sync.snapshot(); await laptop.sync.replicate()
    assert.equal((await desktop.sync.mergeRemotes()).applied, 1)
    await desktop.sync.replicate()
    await writeFile(join(desktop.folder, 'notes', 'a.txt'), 'note a, v3 (desktop, after v2)\n')
    await desktop.sync.snapshot(); await desktop.sync.replicate()
    // the laptop never merged the desktop snapshot that held v2: the desktop's history shows v3 follows v2
    const r = await laptop.sync.mergeRemotes()
    assert.deepEqual([r.applied, r.conflicts], [1, []])
    assert.equal(await readFile(join(laptop.folder, 'notes', 'a.txt'), 'utf8'), 'note a, v3 (desktop, after v2)\n')
  })

  it('a third machine that is merely behind reverts nothing on the others', async () => {
    const [laptop, desktop] = machines
    const tablet = await machine('tablet')
    await tablet.sync.mergeRemotes()
    await tablet.sync.replicate()
    assert.deepEqual(await treeHashes(tablet.folder), await treeHashes(laptop.folder))
    await writeFile(join(laptop.folder, 'b2.txt'), 'new on the laptop\n')
    await writeFile(join(laptop.folder, 'new.txt'), 'new.txt, edited on the laptop\n')
    await laptop.sync.snapshot(); await laptop.sync.replicate()
    // the desktop takes the laptop's edit, then merges the tablet, which has not seen it yet
    await desktop.sync.mergeRemotes()
    assert.equal(await readFile(join(desktop.folder, 'new.txt'), 'utf8'), 'new.txt, edited on the laptop\n')
    await tablet.sync.snapshot(); await tablet.sync.replicate()
    await desktop.sync.mergeRemotes()
    assert.equal(await readFile(join(desktop.folder, 'new.txt'), 'utf8'), 'new.txt, edited on the laptop\n', 'the tablet\'s older version did not come back')
    assert.equal(await readFile(join(desktop.folder, 'b2.txt'), 'utf8'), 'new on the laptop\n')
    // and all three converge
    for (let round = 0; round < 2; round++) for (const m of [laptop, desktop, tablet]) { await m.sync.mergeRemotes(); await m.sync.replicate() }
    const l = await treeHashes(laptop.folder)
    assert.deepEqual(await treeHashes(desktop.folder), l)
    assert.deepEqual(await treeHashes(tablet.folder), l)
    assert.deepEqual(Object.keys(l).filter(p => p.includes('.conflict-')).map(p => p.split('.')[0]), ['plan', 'shared'], 'one copy per conflict, none new')
  })

  it('a new machine restores the folder from the store alone, now and at an earlier time', async () => {
    const [laptop] = machines
    const fresh = await machine('fresh', { merge: false })
    const now = join(dir, 'restored-now')
    const r = await fresh.sync.restore('', { fromStore: true, to: now })
    assert.ok(r.files >= 5)
    assert.deepEqual(await treeHashes(now), await treeHashes(laptop.folder))
    const then = join(dir, 'restored-then')
    await fresh.sync.restore('', { fromStore: true, to: then, at: beforeEdits })
    const t = await treeHashes(then)
    assert.equal(t['shared.txt'], sha('first draft\n'.repeat(5000)))
    assert.equal(t['b.txt'], sha('file b\n'))
    assert.equal(await readFile(join(then, 'notes', 'a.txt'), 'utf8'), 'note a\n')
  })

  it('a node not enrolled for the user reads nothing', async () => {
    const stranger = await machine('stranger', { enroll: false })
    await assert.rejects(stranger.sync.restore('', { fromStore: true, to: join(dir, 'stolen') }), (err: Error) => err.name === 'ReadRefusedError' && /not enrolled/.test(err.message))
    await assert.rejects(readdir(join(dir, 'stolen')), { code: 'ENOENT' })
  })
})
