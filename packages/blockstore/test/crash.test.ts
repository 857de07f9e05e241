import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { access, readdir, readFile, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { bytesMatchCid, parseCid } from '@cachecloud/core'
import { createBlockstore, type Blockstore } from '../src/index.js'
import { tempDir } from './helpers.js'

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url))

function blockFile (root: string, key: string): string {
  return join(root, 'blocks', key.slice(-3, -1), key)
}

/** Runs the writer until it has stored `count` blocks, then SIGKILLs it; returns the CIDs it reported. */
async function writeThenKill (root: string, count: number): Promise<string[]> {
  const child = spawn(process.execPath, [WRITER, root], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, signal) => { resolve(signal) }))
  const cids: string[] = []
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'started') continue
    cids.push(line)
    if (cids.length === count) {
      child.kill('SIGKILL')
      break
    }
  }
  assert.equal(await exited, 'SIGKILL')
  return cids
}

async function assertConsistent (store: Blockstore, root: string): Promise<number> {
  let n = 0
  for await (const cid of store.cids()) {
    assert.ok(bytesMatchCid(cid, await readFile(blockFile(root, cid.toString()))), `${cid.toString()} served corrupt`)
    assert.ok((await store.get(cid)).byteLength >= 16_384)
    n++
  }
  assert.deepEqual(await readdir(join(root, 'tmp')), [])
  assert.equal((await store.stats()).blocks, n)
  return n
}

describe('crash safety', () => {
  it('SIGKILL mid-write plus torn block files: reopened store is consistent, committed blocks intact', async () => {
    const root = await tempDir('blockstore-crash-')
    const store = createBlockstore({ path: root })
    await store.start()
    const committed: Array<{ cid: string, bytes: Buffer }> = []
    for (let i = 0; i < 20; i++) {
      const bytes = randomBytes(16_384 + i)
      committed.push({ cid: (await store.putBytes(bytes)).cid.toString(), bytes })
    }
    await store.stop() // commit point

    const uncommitted = await writeThenKill(root, 60)
    await access(join(root, 'DIRTY')) // the killed writer left the store dirty
    // Simulate what a power loss can leave of unsynced writes: torn, empty and garbled block files,
    // and a half-written temp file.
    const [torn, empty, garbled, ...rest] = uncommitted as [string, string, string, ...string[]]
    await truncate(blockFile(root, torn), 1000)
    await truncate(blockFile(root, empty), 0)
    const bytes = await readFile(blockFile(root, garbled))
    bytes.fill(0, 4096, 8192)
    await writeFile(blockFile(root, garbled), bytes)
    await writeFile(join(root, 'tmp', `${rest[0]}.99999.7`), randomBytes(500))

    const reopened = createBlockstore({ path: root })
    await reopened.start()
    await assert.rejects(access(join(root, 'DIRTY')))
    for (const key of [torn, empty, garbled]) {
      assert.equal(await reopened.has(parseCid(key)), false, `${key} still counted`)
    }
    for (const key of rest) assert.equal(await reopened.has(parseCid(key)), true)
    for (const { cid, bytes } of committed) {
      assert.deepEqual(Buffer.from(await reopened.get(parseCid(cid))), bytes)
    }
    const n = await assertConsistent(reopened, root)
    // The writer may have renamed one more block into place after its last report.
    assert.ok(n === committed.length + rest.length || n === committed.length + rest.length + 1, `n=${n}`)
    await reopened.stop()
  })

  it('repeated kills without torn files lose no reported block', async () => {
    const root = await tempDir('blockstore-crash-')
    const reported: string[] = []
    for (let round = 0; round < 3; round++) reported.push(...await writeThenKill(root, 25))
    const store = createBlockstore({ path: root })
    await store.start()
    for (const key of reported) assert.equal(await store.has(parseCid(key)), true)
    await assertConsistent(store, root)
    await store.stop()
  })
})
