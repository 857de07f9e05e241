import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import { DCSTORE_CLI, launch, NODE_CHILD, run, treeHashes, type Proc } from './personal-procs.js'

const SIZE = 48 * 1024 * 1024
function randomish (seed: string, length: number): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(length))
}
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex')

// A merge killed (kill -9) while it writes the other machine's version over a
// conflicting local file loses neither version; the next merge completes it.
describe('a merge killed mid-write loses nothing (real processes)', () => {
  let dir: string
  let store: Proc
  let discovery: string
  let storeAddr: string
  let userKey: string
  const home = (n: string): string => join(dir, n)
  const folder = (n: string): string => join(dir, n, 'Documents')
  const args = (n: string): string[] => ['--home', home(n), '--folder', folder(n), '--user', 'alice', '--discovery', discovery, '--store', storeAddr, '--key-file', userKey]

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'personal-merge-crash-'))
    const storeData = join(dir, 'store')
    discovery = (await run(DCSTORE_CLI, ['keygen', '--out', join(dir, 'discovery.key')])).trim()
    userKey = join(dir, 'alice.key')
    await run(DCSTORE_CLI, ['keygen', '--out', userKey])
    store = launch(DCSTORE_CLI, ['--data', storeData, '--discovery-key', join(dir, 'discovery.key'), 'serve', '--listen', '/ip4/127.0.0.1/tcp/0'])
    storeAddr = `${((await store.waitFor(e => e.peerId !== undefined)).addrs as string[])[0]}`
    for (const n of ['laptop', 'desktop']) {
      await mkdir(folder(n), { recursive: true })
      const peer = JSON.parse(await run(NODE_CHILD, ['peer-id', '--home', home(n)])) as { peerId: string }
      await run(DCSTORE_CLI, ['--data', storeData, 'enroll', peer.peerId, '--user', 'alice'])
    }
  })

  after(async () => {
    store.child.kill('SIGKILL')
    await store.exited
    await rm(dir, { recursive: true, force: true })
  })

  it('both versions survive the kill, and the next merge converges', async () => {
    const laptopVersion = randomish('laptop', SIZE)
    const desktopVersion = randomish('desktop', SIZE)
    await writeFile(join(folder('laptop'), 'video.bin'), laptopVersion)
    await writeFile(join(folder('desktop'), 'video.bin'), desktopVersion)
    // the desktop's edit is older: the laptop's wins, the desktop's own file becomes the conflict copy
    const hourAgo = new Date(Date.now() - 3_600_000)
    await utimes(join(folder('desktop'), 'video.bin'), hourAgo, hourAgo)
    for (const n of ['laptop', 'desktop']) {
      await run(NODE_CHILD, ['snapshot', ...args(n)])
      await run(NODE_CHILD, ['replicate', ...args(n)])
    }

    const merging = launch(NODE_CHILD, ['pull', ...args('desktop')])
    await merging.waitFor(e => e.event === 'pulling')
    // kill it while it writes the laptop's version (its temporary file is there)
    const deadline = Date.now() + 60_000
    while (!(await readdir(folder('desktop'))).some(n => n.includes('.cachecloud-tmp-'))) {
      if (Date.now() > deadline) assert.fail(`the merge never wrote a temporary file; events: ${JSON.stringify(merging.events)}`)
      await sleep(5)
    }
    merging.child.kill('SIGKILL')
    await merging.exited
    assert.ok(!merging.events.some(e => e.event === 'pulled'), 'killed before it finished')

    // the desktop's own version is still in the folder (renamed to its conflict copy before the write began)
    const mid = await treeHashes(folder('desktop'))
    assert.ok(Object.values(mid).includes(sha(desktopVersion)), `desktop's version kept: ${JSON.stringify(Object.keys(mid))}`)

    const again = JSON.parse((await run(NODE_CHILD, ['pull', ...args('desktop')])).split('\n')[1]) as { event: string, applied: number }
    assert.equal(again.event, 'pulled')
    const names = await readdir(folder('desktop'))
    assert.ok(!names.some(n => n.includes('.cachecloud-tmp-')), `leftover removed: ${names.join(', ')}`)
    const end = await treeHashes(folder('desktop'))
    assert.equal(end['video.bin'], sha(laptopVersion))
    const copies = Object.keys(end).filter(p => p.startsWith('video.conflict-'))
    assert.equal(copies.length, 1, JSON.stringify(Object.keys(end)))
    assert.equal(end[copies[0]], sha(desktopVersion))
    assert.equal(Object.keys(end).length, 2)
  })
})
