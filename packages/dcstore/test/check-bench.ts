// Measures `check --read-data` against the machine's read-and-SHA-256 rate of
// the same pack files (node:crypto, 16 MiB reads, one hash per file).
// Usage: node packages/dcstore/dist/test/check-bench.js [BLOCK_KIB=32] [TOTAL_MIB=1024]
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, open, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createBlockstore } from '@cachecloud/blockstore'
import { cidOf } from '@cachecloud/core'
import { createDcStore, STORE_FILES } from '../src/index.js'

const blockBytes = Number(process.argv[2] ?? 32) * 1024
const totalBytes = Number(process.argv[3] ?? 1024) * 1024 * 1024
const dir = await mkdtemp(join(tmpdir(), 'dcstore-check-bench-'))
const path = join(dir, 'store')
await mkdir(join(path, STORE_FILES.blocks), { recursive: true })
try {
  const blocks = createBlockstore({ path: join(path, STORE_FILES.blocks, 'alice'), compressionLevel: 0 })
  await blocks.start()
  const pool = randomBytes(blockBytes * 64)
  for (let i = 0; i * blockBytes < totalBytes; i++) {
    const b = Buffer.from(pool.subarray((i % 64) * blockBytes, (i % 64 + 1) * blockBytes))
    b.writeUInt32BE(i, 0) // distinct blocks
    await blocks.put(cidOf(b), b)
  }
  await blocks.stop()

  const packsDir = join(path, STORE_FILES.blocks, 'alice', 'packs')
  const baseline = async (): Promise<{ bytes: number, s: number }> => {
    const t0 = process.hrtime.bigint()
    let bytes = 0
    const buf = Buffer.allocUnsafe(16 * 1024 * 1024)
    for (const name of (await readdir(packsDir)).sort()) {
      const fh = await open(join(packsDir, name), 'r')
      const h = createHash('sha256')
      for (;;) {
        const { bytesRead } = await fh.read(buf, 0, buf.byteLength, null)
        if (bytesRead === 0) break
        h.update(buf.subarray(0, bytesRead))
        bytes += bytesRead
      }
      h.digest()
      await fh.close()
    }
    return { bytes, s: Number(process.hrtime.bigint() - t0) / 1e9 }
  }
  const check = async (): Promise<{ bytes: number, s: number }> => {
    const store = createDcStore({ path, create: false })
    await store.start()
    const t0 = process.hrtime.bigint()
    const r = await store.check({ readData: true })
    const s = Number(process.hrtime.bigint() - t0) / 1e9
    await store.stop()
    if (!r.ok) throw new Error(JSON.stringify(r.damage))
    return { bytes: r.readBytes, s }
  }
  await baseline() // warm the page cache
  const rate = (x: { bytes: number, s: number }): number => x.bytes / x.s / 1e6
  const base: number[] = []
  const chk: number[] = []
  for (let i = 0; i < 5; i++) { base.push(rate(await baseline())); chk.push(rate(await check())) }
  const best = (xs: number[]): number => Math.max(...xs)
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  process.stdout.write(JSON.stringify({
    blockKiB: blockBytes / 1024, totalMiB: totalBytes / 1048576,
    baselineMBs: base.map(r => Math.round(r)), checkMBs: chk.map(r => Math.round(r)),
    ratioMedian: +(median(chk) / median(base)).toFixed(2), ratioBest: +(best(chk) / best(base)).toFixed(2)
  }) + '\n')
} finally {
  await rm(dir, { recursive: true, force: true })
}
