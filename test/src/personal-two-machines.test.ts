import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createNetwork, type CachePointLibp2p } from '@cachecloud/network'
import { createPersonalFolder, generateUserKey, type PersonalFolder } from '@cachecloud/personal'
import { DCSTORE_CLI, launch, run, type Proc } from './personal-procs.js'

const sha = (text: string): string => createHash('sha256').update(text).digest('hex')

interface Machine { host: CachePointLibp2p, blockstore: Blockstore, sync: PersonalFolder, folder: string }

describe('one user on two machines (store as a real process, nodes on real libp2p)', () => {
  let dir: string
  let store: Proc
  let storeData: string
  let keyFile: string
  const machines: Machine[] = []
  const userKey = generateUserKey()
  // incompressible, so that its chunks (not directory blocks and records) dominate what each machine sends
  const draft = randomBytes(60_000)

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'personal-two-'))
    storeData = join(dir, 'store')
    keyFile = join(dir, 'discovery.key')
    const discoveryKey = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    store = launch(DCSTORE_CLI, ['--data', storeData, '--discovery-key', keyFile, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0'])
    const ready = await store.waitFor(e => e.peerId !== undefined)
    const storeAddr = `${(ready.addrs as string[])[0]}`
    for (const name of ['laptop', 'desktop']) {
      const folder = join(dir, name, 'Documents')
      await mkdir(folder, { recursive: true })
      await writeFile(join(folder, 'shared.txt'), draft)
      const host = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
      const blockstore = createBlockstore({ path: join(dir, name, 'blocks') })
      await blockstore.start()
      await run(DCSTORE_CLI, ['--data', storeData, 'enroll', host.peerId.toString(), '--user', 'alice'])
      const sync = createPersonalFolder({ user: 'alice', folder, stateDir: join(dir, name, 'state'), blockstore, node: host.peerId.toString(), discoveryKey, userKey, libp2p: host, store: storeAddr, watch: false })
      machines.push({ host, blockstore, sync, folder })
    }
  })

  after(async () => {
    for (const m of machines) { await m.blockstore.stop(); await m.host.stop() }
    store.child.kill('SIGTERM')
    await store.exited
    await rm(dir, { recursive: true, force: true })
  })

  it('both replicate; identical content is stored once; a conflicting edit keeps both versions', async () => {
    const [laptop, desktop] = machines
    await laptop.sync.snapshot()
    const a = await laptop.sync.replicate()
    await desktop.sync.snapshot()
    const b = await desktop.sync.replicate()
    assert.ok(b.bytesSent < a.bytesSent / 2, `desktop sent ${b.bytesSent}, laptop ${a.bytesSent}: same user key, same chunks`)

    await writeFile(join(laptop.folder, 'shared.txt'), 'edited on the laptop\n')
    await writeFile(join(desktop.folder, 'shared.txt'), 'edited on the desktop\n')
    for (const m of machines) { await m.sync.snapshot(); await m.sync.replicate() }

    const versions = JSON.parse(await run(DCSTORE_CLI, ['--data', storeData, '--json', 'discover', 'search', '--glob', 'shared.txt'])) as Array<{ node: string, sha256: string }>
    assert.equal(versions.length, 4)
    const hashes = new Set(versions.map(v => v.sha256))
    assert.ok(hashes.has(sha('edited on the laptop\n')) && hashes.has(sha('edited on the desktop\n')))
    assert.equal(new Set(versions.map(v => v.node)).size, 2)

    // an export opens the block stores: it needs the store stopped (the data directory's lock)
    store.child.kill('SIGTERM')
    await store.exited
    const out = join(dir, 'export')
    await run(DCSTORE_CLI, ['--data', storeData, '--discovery-key', keyFile, 'discover', 'export', '--user', 'alice', '--to', out])
    assert.equal(await readFile(join(out, laptop.host.peerId.toString(), 'shared.txt'), 'utf8'), 'edited on the laptop\n')
    assert.equal(await readFile(join(out, desktop.host.peerId.toString(), 'shared.txt'), 'utf8'), 'edited on the desktop\n')
    const tar = join(dir, 'export.tar')
    await run(DCSTORE_CLI, ['--data', storeData, '--discovery-key', keyFile, 'discover', 'export', '--user', 'alice', '--tar', tar])
    const listing = await promisify(execFile)('tar', ['-tf', tar])
    assert.ok(listing.stdout.includes('./MANIFEST.json') && listing.stdout.includes(`./${laptop.host.peerId.toString()}/shared.txt`))
    await run(DCSTORE_CLI, ['--data', storeData, 'audit', 'verify'])
  })
})
