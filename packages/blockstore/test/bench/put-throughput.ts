/**
 * putBytes throughput against plain node:crypto SHA-256 over the same bytes,
 * without and with the final commit (`sync()`, which an import waits for),
 * and the event loop's longest stall while storing.
 * `node dist/test/bench/put-throughput.js DIR [MiB=1024] [concurrency=1,4] [rounds=3] [writebackBytes]`
 * Rounds alternate hashing and storing; the best of each is reported, which
 * is the better estimate on a shared machine. Does nothing without arguments
 * (as when the test runner loads it).
 */
import { createHash, randomBytes } from 'node:crypto'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createBlockstore } from '../../src/index.js'

function hashAll (blocks: Buffer[]): number {
  const t = performance.now()
  for (const block of blocks) createHash('sha256').update(block).digest()
  return performance.now() - t
}

interface Run { putMs: number, syncMs: number, cpuMs: number, maxStallMs: number }

async function storeAll (dir: string, blocks: Buffer[], concurrency: number): Promise<Run> {
  const path = join(dir, `bench-${process.pid}`)
  await rm(path, { recursive: true, force: true })
  const store = createBlockstore({ path, writebackBytes })
  await store.start()
  let next = 0
  const delay = monitorEventLoopDelay({ resolution: 1 })
  delay.enable()
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
  delay.disable()
  await store.stop()
  await rm(path, { recursive: true, force: true })
  return { putMs, syncMs, cpuMs: (used.user + used.system) / 1000, maxStallMs: delay.max / 1e6 }
}

async function main (dir: string, mib: number, concurrencies: number[], rounds: number): Promise<void> {
  const total = mib * 1024 * 1024
  const mbps = (ms: number): number => Math.round(total / ms / 1000)
  for (const blockSize of [256 * 1024, 1024 * 1024]) {
    const blocks: Buffer[] = []
    for (let off = 0; off < total; off += blockSize) blocks.push(randomBytes(blockSize))
    for (const concurrency of concurrencies) {
      let hashMs = Infinity
      let best: Run = { putMs: Infinity, syncMs: 0, cpuMs: 0, maxStallMs: 0 }
      let bestCommitted = Infinity
      for (let r = 0; r < rounds; r++) {
        hashMs = Math.min(hashMs, hashAll(blocks))
        const run = await storeAll(dir, blocks, concurrency)
        if (run.putMs < best.putMs) best = run
        bestCommitted = Math.min(bestCommitted, run.putMs + run.syncMs)
      }
      console.log(`${blockSize / 1024} KiB x${concurrency}: sha256 ${mbps(hashMs)} MB/s, putBytes ${mbps(best.putMs)} MB/s ` +
        `= ${Math.round(hashMs / best.putMs * 100)}%, with sync ${mbps(bestCommitted)} MB/s = ${Math.round(hashMs / bestCommitted * 100)}%; ` +
        `cpu ${Math.round(best.cpuMs)} ms vs hash ${Math.round(hashMs)} ms; sync ${Math.round(best.syncMs)} ms; max event-loop stall ${best.maxStallMs.toFixed(1)} ms`)
    }
  }
}

const [dir, mib, conc, rounds, writeback] = process.argv.slice(2)
const writebackBytes = writeback === undefined ? undefined : Number(writeback)
if (dir !== undefined) await main(dir, Number(mib ?? 1024), (conc ?? '1,4').split(',').map(Number), Number(rounds ?? 3))
