import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { appendFile, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { adoptUserKeyPair, createPersonalFolder, EmptyFirstSnapshotError, formatX25519Key, generateX25519KeyPair, PathNotFoundError, SnapshotNotFoundError, UserKeyMismatchError, type PersonalFolder } from '../src/index.js'
import { anyFileContains, tempDir, treeHashes } from './helpers.js'

const MARKER = 'PRIVATE-MARKER-7f3a9c-do-not-leak'

describe('personal sync (offline)', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let blockstore: Blockstore
  let sync: PersonalFolder
  let folder: string

  before(async () => {
    dir = await tempDir('personal-')
    folder = join(dir.path, 'home')
    await mkdir(join(folder, 'docs/deep'), { recursive: true })
    await writeFile(join(folder, 'docs/letter.txt'), `Dear auditor, ${MARKER}\n`.repeat(50))
    await writeFile(join(folder, 'docs/deep/big.bin'), Buffer.alloc(3 * 1024 * 1024, 7))
    await writeFile(join(folder, 'notes.md'), '# notes\n')
    await symlink('docs/letter.txt', join(folder, 'latest'))
    // a restore's or merge's temporary file is not the user's: not versioned (3 files, not 5); one of a dead process is removed
    await writeFile(join(folder, 'docs', `.letter.txt.cachecloud-tmp-${process.pid}`), 'being written')
    await writeFile(join(folder, 'docs', '.old.txt.cachecloud-tmp-999999'), 'left by a killed process')
    blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
    sync = createPersonalFolder({ user: 'alice', folder, stateDir: join(dir.path, 'state'), blockstore, node: 'node-a', discoveryKey: generateX25519KeyPair().publicKey, watch: false })
  })

  after(async () => {
    await blockstore.stop()
    await dir.cleanup()
  })

  it('snapshots, skips an unchanged folder and re-hashes nothing on rescan', async () => {
    const first = await sync.snapshot()
    assert.equal(first.created, true)
    assert.equal(first.files, 3)
    assert.equal(first.stats.hashedFiles, 3)
    const again = await sync.snapshot()
    assert.equal(again.created, false)
    assert.equal(again.stats.hashedFiles, 0)
    assert.equal(again.stats.newBlocks, 0)
    assert.ok(again.cid.equals(first.cid))
    await assert.rejects(stat(join(folder, 'docs', '.old.txt.cachecloud-tmp-999999')), { code: 'ENOENT' })
    await rm(join(folder, 'docs', `.letter.txt.cachecloud-tmp-${process.pid}`))
  })

  it('an edit re-hashes only that file; restore brings back a deleted and an overwritten file from an older snapshot', async () => {
    const v1 = await treeHashes(folder)
    const t1 = (await sync.log()).at(-1)!.time
    await new Promise(resolve => setTimeout(resolve, 20))
    await appendFile(join(folder, 'notes.md'), 'more\n')
    await rm(join(folder, 'docs/letter.txt'))
    const second = await sync.snapshot()
    assert.equal(second.created, true)
    assert.equal(second.stats.hashedFiles, 1)
    assert.equal((await sync.log()).length, 2)

    const out = join(dir.path, 'restored')
    const r = await sync.restore('', { at: t1, to: out })
    assert.equal(r.files, 3)
    assert.deepEqual(await treeHashes(out), v1)
    await sync.restore('docs/letter.txt', { at: t1 })
    assert.equal((await treeHashes(folder))['docs/letter.txt'], v1['docs/letter.txt'])
    await assert.rejects(sync.restore('nope.txt'), PathNotFoundError)
    await assert.rejects(sync.restore('', { at: '2000-01-01T00:00:00Z' }), SnapshotNotFoundError)
  })

  it('status shows pending snapshots and bytes while offline', async () => {
    const s = await sync.status()
    assert.equal(s.snapshots, 2)
    assert.equal(s.pendingSnapshots, 2)
    assert.ok(s.pendingBytes > 0)
  })

  it('liveBlocks covers every block the snapshots need: a GC keeping only them loses nothing', async () => {
    const live = await sync.liveBlocks()
    await blockstore.gc(cid => live.has(cid.toString()))
    // every snapshot still restores completely (restore checks each file's SHA-256)
    for (const [i, s] of (await sync.log()).entries()) {
      const r = await sync.restore('', { at: s.time, to: join(dir.path, `after-gc-${i}`) })
      assert.equal(r.files, s.files)
    }
  })

  it('the block store holds no plaintext of a private file', async () => {
    await blockstore.sync()
    assert.equal(await anyFileContains(join(dir.path, 'blocks'), MARKER), undefined)
    assert.ok(await anyFileContains(folder, MARKER) !== undefined) // the search itself works
  })
})

describe('personal sync: the scan cache file', () => {
  it('survives a restart (nothing re-hashed); a damaged one costs a re-hash, not a snapshot', async () => {
    const dir = await tempDir('personal-cache-')
    const folder = join(dir.path, 'home')
    await mkdir(join(folder, 'docs'), { recursive: true })
    await writeFile(join(folder, 'docs/letter.txt'), 'Dear auditor,\n'.repeat(50))
    await writeFile(join(folder, 'notes.md'), '# notes\n')
    await writeFile(join(folder, 'big.bin'), Buffer.alloc(600 * 1024, 3)) // streamed, several chunks
    const blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
    const discoveryKey = generateX25519KeyPair().publicKey
    // each a new folder object: it reads the scan cache from its file, as after a restart
    const reopened = (): PersonalFolder => createPersonalFolder({ user: 'alice', folder, stateDir: join(dir.path, 'state'), blockstore, node: 'node-a', discoveryKey, watch: false })
    try {
      const first = await reopened().snapshot()
      assert.equal(first.stats.hashedFiles, 3)
      const again = await reopened().snapshot()
      assert.equal(again.created, false)
      assert.equal(again.stats.hashedFiles, 0, 'read back from the cache file, every file is found unchanged')
      const cacheFile = join(dir.path, 'state', 'scan-cache.json')
      const cache = JSON.parse(await readFile(cacheFile, 'utf8')) as { files: Record<string, { chunks: string[] }> }
      cache.files['notes.md'].chunks = ['not-a-cid']
      await writeFile(cacheFile, JSON.stringify(cache))
      const damaged = await reopened().snapshot()
      assert.equal(damaged.created, false)
      assert.ok(damaged.root.equals(first.root))
      assert.equal(damaged.stats.hashedFiles, 3)
      assert.equal((await reopened().snapshot()).stats.hashedFiles, 0, 'and the cache is whole again')
    } finally {
      await blockstore.stop()
      await dir.cleanup()
    }
  })
})

describe('personal sync: watcher', () => {
  it('a change in the folder is snapshotted after the debounce, without a call', async () => {
    const dir = await tempDir('personal-watch-')
    const folder = join(dir.path, 'home')
    await mkdir(join(folder, 'sub'), { recursive: true })
    await writeFile(join(folder, 'sub/a.txt'), 'one')
    const blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
    const sync = createPersonalFolder({ user: 'carol', folder, stateDir: join(dir.path, 'state'), blockstore, node: 'node-c', discoveryKey: generateX25519KeyPair().publicKey, debounceMs: 100 })
    try {
      await sync.start()
      const waitFor = async (n: number): Promise<void> => {
        for (let i = 0; i < 200 && (await sync.log()).length < n; i++) await new Promise(resolve => setTimeout(resolve, 50))
        assert.equal((await sync.log()).length, n)
      }
      await waitFor(1) // the first snapshot at start
      await writeFile(join(folder, 'sub/a.txt'), 'two') // in a subdirectory: the watch is recursive
      await waitFor(2)
      assert.equal((await sync.status()).lastError, null)
    } finally {
      await sync.stop()
      await blockstore.stop()
      await dir.cleanup()
    }
  })
})

describe('user key from the user key pair', () => {
  it('two syncs with the same key pair seal alike; a folder versioned with another key refuses it in one line', async () => {
    const dir = await tempDir('personal-keypair-')
    try {
      const pair = generateX25519KeyPair()
      const blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
      await blockstore.start()
      const make = (name: string, withPair: boolean): PersonalFolder => createPersonalFolder({
        user: 'alice', folder: join(dir.path, 'home'), stateDir: join(dir.path, name), blockstore, node: name, discoveryKey: generateX25519KeyPair().publicKey, watch: false,
        ...(withPair ? { userPrivateKey: pair.privateKey } : {})
      })
      await mkdir(join(dir.path, 'home'))
      await writeFile(join(dir.path, 'home', 'a.txt'), 'same content on both machines\n')
      const a = await make('laptop', true).snapshot()
      const b = await make('desktop', true).snapshot()
      assert.ok(a.root.equals(b.root), 'same user key: the same tree seals to the same blocks')
      const c = await make('old', false).snapshot()
      assert.ok(!c.root.equals(a.root), 'a random key seals differently')
      await assert.rejects(make('old', true).snapshot(), (err: Error) => err.name === UserKeyMismatchError.name && (err as UserKeyMismatchError).code === 'ERR_USER_KEY_MISMATCH' && /cachepoint personal adopt-key/.test(err.message) && !err.message.includes('\n'))
      // the migration keeps the history: the old snapshot stays restorable here, the next one continues it with the pair's key
      const keyFile = join(dir.path, 'alice.key')
      await writeFile(keyFile, JSON.stringify({ privateKey: formatX25519Key(pair.privateKey), publicKey: formatX25519Key(pair.publicKey) }))
      assert.equal(await adoptUserKeyPair(join(dir.path, 'old'), keyFile, 'alice'), true)
      assert.equal(await adoptUserKeyPair(join(dir.path, 'old'), keyFile, 'alice'), false, 'adopting again changes nothing')
      await writeFile(join(dir.path, 'home', 'b.txt'), 'added after adopting the key pair\n')
      const adopted = make('old', true)
      const d = await adopted.snapshot()
      assert.equal(d.created, true)
      assert.equal(d.parent?.toString(), c.cid.toString(), 'the history continues')
      const log = await adopted.log()
      assert.deepEqual(log.map(s => s.cid.toString()), [c.cid.toString(), d.cid.toString()])
      const out = join(dir.path, 'out-old')
      const old = await adopted.restore('', { at: c.time, to: out })
      assert.equal(old.snapshot.cid.toString(), c.cid.toString())
      assert.deepEqual(Object.keys(await treeHashes(out)), ['a.txt'], 'the snapshot sealed with the old key restores')
      const e = await make('laptop', true).snapshot()
      assert.ok(d.root.equals(e.root), 'after adopting, the folder seals like the other machines of the user')
      await blockstore.stop()
    } finally {
      await dir.cleanup()
    }
  })
})

describe('a folder whose disk is missing', () => {
  it('is not snapshotted as empty (which would delete everything on the user\'s other machines)', async (t) => {
    const dir = await tempDir('personal-mount-')
    const folder = join(dir.path, 'home')
    await mkdir(folder)
    const run = promisify(execFile)
    try { await run('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', folder]) } catch (err) {
      t.skip(`cannot mount a tmpfs here: ${(err as Error).message.split('\n')[0]}`)
      await dir.cleanup()
      return
    }
    const blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
    try {
      await writeFile(join(folder, 'a.txt'), 'on the mounted disk\n')
      const sync = createPersonalFolder({ user: 'alice', folder, stateDir: join(dir.path, 'state'), blockstore, node: 'n', discoveryKey: generateX25519KeyPair().publicKey, watch: false })
      assert.equal((await sync.snapshot()).files, 1)
      await run('umount', [folder])
      await assert.rejects(sync.snapshot(), (err: Error) => err.name === 'FolderUnavailableError' && /is its disk mounted/.test(err.message))
      assert.equal((await sync.log()).length, 1)
    } finally {
      await run('umount', [folder]).catch(() => {})
      await blockstore.stop()
      await dir.cleanup()
    }
  })
})

describe('an empty folder on a node without a snapshot of it', () => {
  it('is not recorded as a first snapshot (it would become the user\'s latest); once there is history, emptying it is', async () => {
    const dir = await tempDir('personal-empty-first-')
    const blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
    try {
      const folder = join(dir.path, 'home')
      await mkdir(folder)
      const sync = createPersonalFolder({ user: 'alice', folder, stateDir: join(dir.path, 'state'), blockstore, node: 'new-laptop', discoveryKey: generateX25519KeyPair().publicKey, watch: false })
      await assert.rejects(sync.snapshot(), (err: Error) => err.name === EmptyFirstSnapshotError.name && (err as EmptyFirstSnapshotError).code === 'ERR_EMPTY_FIRST_SNAPSHOT' && /personal restore --from-store/.test(err.message))
      assert.deepEqual(await sync.log(), [])
      assert.equal((await sync.status()).pendingSnapshots, 0)
      await writeFile(join(folder, 'a.txt'), 'a\n')
      assert.equal((await sync.snapshot()).created, true)
      await rm(join(folder, 'a.txt'))
      const emptied = await sync.snapshot()
      assert.equal(emptied.created, true)
      assert.equal(emptied.files, 0)
    } finally {
      await blockstore.stop()
      await dir.cleanup()
    }
  })
})
