/**
 * Where the replication bytes of a small edit go: one folder of FILES files
 * (PER_DIR per directory), 1% of them rewritten, replicated to an in-process
 * store on loopback; prints the new blocks by kind (chunks, directory pages,
 * directory tops, record) and the protocol's framing and WANTs.
 * Run: node bench/dist/src/personal-overhead.js [files]
 */
import '@cachecloud/core/polyfill'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DAG_CBOR_CODEC } from '@cachecloud/core'
import { dirLinks } from '@cachecloud/personal'
import { content, editOnePercent, PER_DIR, startPersonalPair } from './personal-pair.js'

const FILES = Number(process.argv[2] ?? 20_000)

const dir = await mkdtemp(join(tmpdir(), 'cc-overhead-'))
try {
  const folder = join(dir, 'home')
  for (let d = 0; d * PER_DIR < FILES; d++) {
    await mkdir(join(folder, `dir${d}`), { recursive: true })
    for (let f = 0; f < PER_DIR && d * PER_DIR + f < FILES; f++) {
      const size = Math.floor(8192 * (0.25 + 1.5 * (((d * PER_DIR + f) * 7919) % 1000) / 1000))
      await writeFile(join(folder, `dir${d}`, `f${f}.dat`), content(`v1/${d}/${f}`, size))
    }
  }
  const pair = await startPersonalPair(dir, folder)
  const { sync, blockstore } = pair
  const first = await sync.snapshot()
  await sync.replicate()
  const { edited, changed } = await editOnePercent(folder, FILES)
  const second = await sync.snapshot()
  const r = await sync.replicate()
  // the blocks new in the second snapshot, by kind
  const old = new Set<string>()
  const walk = async (root: typeof first.root, into: Set<string>, kinds?: Record<string, [number, number]>): Promise<void> => {
    const stack = [root]
    while (stack.length > 0) {
      const cid = stack.pop()!
      if (into.has(cid.toString())) continue
      into.add(cid.toString())
      const bytes = await blockstore.get(cid)
      const fresh = kinds !== undefined && !old.has(cid.toString())
      if (cid.code === DAG_CBOR_CODEC) {
        const links = dirLinks(bytes)
        const kind = links.length > 0 && links.every(l => l.code === DAG_CBOR_CODEC) && cid !== root ? 'dir blocks linking only dirs (tops, root)' : 'dir blocks with chunks (pages, small dirs)'
        if (fresh) { kinds[kind] ??= [0, 0]; kinds[kind][0]++; kinds[kind][1] += bytes.byteLength }
        for (const l of links) stack.push(l)
      } else if (fresh) { kinds.chunks ??= [0, 0]; kinds.chunks[0]++; kinds.chunks[1] += bytes.byteLength }
    }
  }
  await walk(first.root, old)
  const kinds: Record<string, [number, number]> = {}
  await walk(second.root, new Set(), kinds)
  const record = (await blockstore.get(second.cid)).byteLength
  console.log(JSON.stringify(
    {
      files: FILES,
      edited,
      changed,
      wireBytes: r.wireBytes,
      ratio: +(r.wireBytes / changed).toFixed(4),
      blockBytes: r.bytesSent,
      framingAndWants: r.wireBytes - r.bytesSent - record,
      record,
      kinds
    },
    null,
    1
  ))
  await pair.stop()
} finally {
  await rm(dir, { recursive: true, force: true })
}
