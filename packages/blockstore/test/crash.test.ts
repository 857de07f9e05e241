import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { appendFile, readFile, stat, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { describe, it } from 'node:test'
import { bytesMatchCid, parseCid } from '@cachecloud/core'
import { createBlockstore, type Blockstore } from '../src/index.js'
import { allRecords, packFiles, scanPack, tempDir } from './helpers.js'

const WRITER = fileURLToPath(new URL('./fixtures/crash-writer.js', import.meta.url))

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

/** Every block listed is served verified, stats agree, and every pack ends on a record boundary. */
async function assertConsistent (store: Blockstore, root: string): Promise<number> {
  let n = 0
  for await (const cid of store.cids()) {
    assert.ok(bytesMatchCid(cid, await store.get(cid)), `${cid.toString()} served corrupt`)
    n++
  }
  assert.equal((await store.stats()).blocks, n)
  for (const file of await packFiles(root)) {
    const bytes = await readFile(file)
    assert.equal(scanPack(bytes).end, bytes.byteLength, `${file} has a torn or garbage tail`)
  }
  return n
}

async function commitSome (root: string, count: number): Promise<Array<{ cid: string, bytes: Buffer }>> {
  const store = createBlockstore({ path: root })
  await store.start()
  const committed: Array<{ cid: string, bytes: Buffer }> = []
  for (let i = 0; i < count; i++) {
    const bytes = randomBytes(16_384 + i)
    committed.push({ cid: (await store.putBytes(bytes)).cid.toString(), bytes })
  }
  await store.stop() // commit point
  return committed
}

describe('crash safety', () => {
  it('SIGKILL mid-write, then a torn pack tail and garbage: committed blocks intact, whole uncommitted ones kept', async () => {
    const root = await tempDir('blockstore-crash-')
    const committed = await commitSome(root, 20)
    const reported = await writeThenKill(root, 60)
    // What a power loss can leave of unsynced writes: the last records torn, garbage after them.
    const records = await allRecords(root)
    const tear = records[records.length - 3]
    assert.ok(tear !== undefined)
    await truncate(tear.file, tear.dataOffset + 1000)
    await appendFile(tear.file, randomBytes(5000))
    const lost = new Set(records.slice(-3).map(r => r.cid.toString()))

    const store = createBlockstore({ path: root })
    await store.start()
    for (const key of reported) assert.equal(await store.has(parseCid(key)), !lost.has(key), key)
    for (const { cid, bytes } of committed) assert.deepEqual(Buffer.from(await store.get(parseCid(cid))), bytes)
    const n = await assertConsistent(store, root)
    assert.equal(n, records.length - 3)
    assert.equal((await stat(tear.file)).size, tear.start)
    await store.stop()
  })

  it('repeated kills without damage lose no reported block', async () => {
    const root = await tempDir('blockstore-crash-')
    const reported: string[] = []
    for (let round = 0; round < 3; round++) reported.push(...await writeThenKill(root, 25))
    const store = createBlockstore({ path: root })
    await store.start()
    for (const key of reported) assert.equal(await store.has(parseCid(key)), true)
    await assertConsistent(store, root)
    await store.stop()
  })

  it('a garbled record in an uncommitted tail ends the salvage there', async () => {
    const root = await tempDir('blockstore-crash-')
    const committed = await commitSome(root, 5)
    const reported = await writeThenKill(root, 10)
    const records = await allRecords(root)
    const garbled = records.find(r => r.cid.toString() === reported[4])
    assert.ok(garbled !== undefined)
    const bytes = await readFile(garbled.file)
    bytes.fill(0, garbled.dataOffset + 100, garbled.dataOffset + 200)
    await writeFile(garbled.file, bytes)

    const store = createBlockstore({ path: root })
    await store.start()
    for (const [i, key] of reported.entries()) assert.equal(await store.has(parseCid(key)), i < 4, key)
    for (const { cid } of committed) assert.equal(await store.has(parseCid(cid)), true)
    assert.equal(await assertConsistent(store, root), 5 + 4)
    await store.stop()
  })

  it('a truncated index log: the lost commits are rebuilt from the packs by verified scanning', async () => {
    const root = await tempDir('blockstore-crash-')
    const first = await commitSome(root, 10)
    const second = await commitSome(root, 10)
    const log = join(root, 'index.log')
    await truncate(log, (await stat(log)).size - 7) // tears the second commit
    const store = createBlockstore({ path: root })
    await store.start()
    for (const { cid, bytes } of [...first, ...second]) assert.deepEqual(Buffer.from(await store.get(parseCid(cid))), bytes)
    assert.equal(await assertConsistent(store, root), 20)
    await store.stop()
    await truncate(log, 0) // no index at all: everything comes from the packs
    await store.start()
    assert.equal(await assertConsistent(store, root), 20)
    await store.stop()
  })
})
