/**
 * putBytes throughput against plain node:crypto SHA-256 over the same bytes.
 * `node dist/test/bench/put-throughput.js DIR [MiB=1024] [concurrency=1,4] [rounds=3]`
 * Rounds alternate hashing and storing; the best of each is reported, which
 * is the better estimate on a shared machine. Does nothing without arguments
 * (as when the test runner loads it).
 */
import { createHash, randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { createBlockstore } from '../../src/index.js'

function hashAll (blocks: Buffer[]): number {
  const t = performance.now()
  for (const block of blocks) createHash('sha256').update(block).digest()
  return performance.now() - t
}

async function storeAll (dir: string, blocks: Buffer[], concurrency: number): Promise<{ putMs: number, syncMs: number, cpuMs: number }> {
  const path = join(dir, `bench-${process.pid}`)
  await rm(path, { recursive: true, force: true })
  const store = createBlockstore({ path })
  await store.start()
  let next = 0
  const cpu = process.cpuUsage()
  const t = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < blocks.length) await store.putBytes(blocks[next++] as Buffer)
  }))
  const putMs = performance.now() - t
  const used = process.cpuUsage(cpu)
  const s = performance.now()
  await store.sync()
  const syncMs = performance.now() - s
  await store.stop()
  await rm(path, { recursive: true, force: true })
  return { putMs, syncMs, cpuMs: (used.user + used.system) / 1000 }
}

async function main (dir: string, mib: number, concurrencies: number[], rounds: number): Promise<void> {
  const total = mib * 1024 * 1024
  const mbps = (ms: number): number => Math.round(total / ms / 1000)
  for (const blockSize of [256 * 1024, 1024 * 1024]) {
    const blocks: Buffer[] = []
    for (let off = 0; off < total; off += blockSize) blocks.push(randomBytes(blockSize))
    for (const concurrency of concurrencies) {
      let hashMs = Infinity
      let best = { putMs: Infinity, syncMs: 0, cpuMs: 0 }
      for (let r = 0; r < rounds; r++) {
        hashMs = Math.min(hashMs, hashAll(blocks))
        const run = await storeAll(dir, blocks, concurrency)
        if (run.putMs < best.putMs) best = run
      }
      console.log(`${blockSize / 1024} KiB x${concurrency}: sha256 ${mbps(hashMs)} MB/s, putBytes ${mbps(best.putMs)} MB/s ` +
        `= ${Math.round(hashMs / best.putMs * 100)}%; cpu ${Math.round(best.cpuMs)} ms vs hash ${Math.round(hashMs)} ms; sync ${Math.round(best.syncMs)} ms`)
    }
  }
}

const [dir, mib, conc, rounds] = process.argv.slice(2)
if (dir !== undefined) await main(dir, Number(mib ?? 1024), (conc ?? '1,4').split(',').map(Number), Number(rounds ?? 3))
