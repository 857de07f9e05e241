import assert from 'node:assert/strict'
import { createCipheriv, createHash } from 'node:crypto'
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { encodeBlock } from '@cachecloud/codec'
import { cidOf, DAG_CBOR_CODEC, type CID } from '@cachecloud/core'
import {
  CHUNK_FORMAT, CHUNK_INNER, ChunkDecodeError, createPersonalFolder, deriveUserKeys, readDir, DIR_FORMAT_V4, generateUserKey, generateX25519KeyPair,
  MAX_CHUNK_BLOCK_BYTES, MAX_CHUNK_BYTES, openBlock,
  restoreTree, sealBlock, type Entry, type PersonalFolder
} from '../src/index.js'
import { Crafter } from './craft.js'
import { tempDir, treeHashes } from './helpers.js'

function random (seed: string, size: number): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(size))
}

/** Text-like content: log lines with counters (compresses several times over). */
function text (seed: string, size: number): Buffer {
  const lines: string[] = []
  let n = 0
  for (let i = 0; n < size; i++) { const l = `${seed} 2026-11-${String(1 + i % 28).padStart(2, '0')} INFO request ${i} served in ${i % 97} ms from cache\n`; lines.push(l); n += l.length }
  return Buffer.from(lines.join('')).subarray(0, size)
}

/** Sealed bytes of every chunk block (raw CID codec) in the store, and how many. */
async function chunkBytes (blockstore: Blockstore, roots: Iterable<CID>): Promise<number> {
  let total = 0
  for (const cid of roots) total += (await blockstore.get(cid)).byteLength
  return total
}

describe('personal: chunks compressed before sealing', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>
  let blockstore: Blockstore
  const discovery = generateX25519KeyPair()
  const userKey = generateUserKey()
  const make = (folder: string, state: string): PersonalFolder => createPersonalFolder({ user: 'carol', folder, stateDir: join(dir.path, state), blockstore, node: 'node-c', discoveryKey: discovery.publicKey, userKey, watch: false })

  before(async () => {
    dir = await tempDir('personal-compress-')
    blockstore = createBlockstore({ path: join(dir.path, 'blocks') })
    await blockstore.start()
  })
  after(async () => { await blockstore.stop(); await dir.cleanup() })

  it('compressible files seal to much less than their bytes; random ones to their bytes plus the per-chunk overhead; both restore', async () => {
    for (const [kind, gen] of [['text', text], ['random', random]] as const) {
      const folder = join(dir.path, kind)
      await mkdir(folder, { recursive: true })
      let plain = 0
      for (let i = 0; i < 20; i++) { const data = gen(`${kind}${i}`, 20_000 + i * 9_000); plain += data.byteLength; await writeFile(join(folder, `f${i}.log`), data) }
      const sync = make(folder, `state-${kind}`)
      const snap = await sync.snapshot()
      // the chunks: every link of the one (unpaged) root directory block
      const links = (dagCbor.decode(await blockstore.get(snap.root)) as { l: CID[] }).l
      const sealed = await chunkBytes(blockstore, links)
      if (kind === 'text') {
        assert.ok(sealed < plain / 3, `text: ${sealed} sealed bytes for ${plain} plaintext`)
      } else {
        // 24 nonce + 16 tag + 1 flag per chunk, nothing gained and nothing more lost
        assert.equal(sealed, plain + links.length * 41, `random: ${sealed} sealed for ${plain} in ${links.length} chunks`)
      }
      assert.ok(links.every(c => c.code !== DAG_CBOR_CODEC))
      const out = join(dir.path, `out-${kind}`)
      await sync.restore('', { to: out })
      assert.deepEqual(await treeHashes(out), await treeHashes(folder))
      // the same content read and sealed again (no scan cache, same user key) is the same blocks: dedupe holds
      const again = await make(folder, `state-${kind}-again`).snapshot()
      assert.ok(again.root.equals(snap.root))
      assert.equal(again.stats.newBlocks, 0)
    }
  })

  it('a snapshot written before compression (directory format 4, chunks without a flag) still restores', async () => {
    const c = new Crafter()
    const file = c.file('old.txt', text('old', 50_000))
    // a format-4 block as the previous code wrote it (docs/formats/personal.md#tree): header { f, h }
    const entry = sealBlock(c.keys, dagCbor.encode({ n: 'old.txt', k: 0, p: 0o644, m: file.mtimeMs, s: file.size, h: file.sha256, c: 1 }))
    const u32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b }
    const h = createHash('sha256').update(u32(1)).update(Uint8Array.of(file.chunks[0].bytes.byteLength)).update(file.chunks[0].bytes).update(u32(1)).update(u32(entry.byteLength)).update(entry).digest()
    const block = dagCbor.encode({ l: file.chunks, e: [entry], s: sealBlock(c.keys, dagCbor.encode({ f: DIR_FORMAT_V4, h })) })
    const root = cidOf(block, DAG_CBOR_CODEC)
    const blocks = new Map([[root.toString(), block], [file.chunks[0].toString(), (await c.source.get(file.chunks[0]))]])
    const out = join(dir.path, 'out-old')
    const result = await restoreTree({ get: async cid => blocks.get(cid.toString())! }, c.keys, root, '', out)
    assert.equal(result.files, 1)
    assert.deepEqual(await readFile(join(out, 'old.txt')), text('old', 50_000))
    // that old chunk is the plaintext sealed as it is, no flag
    assert.deepEqual(Buffer.from(openBlock(c.keys, blocks.get(file.chunks[0].toString())!)), text('old', 50_000))
  })

  it('a sealed zstd bomb (a frame inflating beyond the chunk maximum) is refused before it is inflated, and nothing is written', async () => {
    const huge = 256 * 1024 * 1024
    const frame = encodeBlock(Buffer.alloc(huge), { level: 1 }).bytes // a few KiB that inflate to 256 MiB
    assert.ok(frame.byteLength < MAX_CHUNK_BLOCK_BYTES)
    const inner = (claimed: number): Buffer => {
      const b = Buffer.alloc(5); b[0] = CHUNK_INNER.zstd; b.writeUInt32BE(
        claimed,
        1
      ); return Buffer.concat([b, frame])
    }
    const c = new Crafter()
    const claimsAll = c.flaggedFile('claims-all.bin', inner(huge), Buffer.alloc(10))
    const liesSmall = c.flaggedFile('lies-small.bin', inner(100_000), Buffer.alloc(100_000))
    const badFlag = c.flaggedFile('bad-flag.bin', Buffer.from([7, 1, 2, 3]), Buffer.from([1, 2, 3]))
    for (const [entry, msg] of [[claimsAll, /more than the chunk maximum/], [liesSmall, /decodes to 268435456 bytes, expected 100000/], [badFlag, /unknown chunk flag 7/]] as Array<[Entry, RegExp]>) {
      const root = c.dirBlock([entry])
      const out = join(dir.path, `out-bomb-${entry.name}`)
      const rss = process.memoryUsage().rss
      await assert.rejects(restoreTree(c.source, c.keys, root, '', out), (err: Error) => err.name === ChunkDecodeError.name && (err as ChunkDecodeError).code === 'ERR_CHUNK_DECODE' && msg.test(err.message))
      assert.ok(process.memoryUsage().rss - rss < 64 * 1024 * 1024, 'nothing inflated')
      assert.deepEqual(await treeHashes(out), {}, 'nothing written')
    }
    assert.equal(MAX_CHUNK_BYTES, 128 * 1024)
  })

  it('after the upgrade, an unchanged file keeps the format-1 chunks its scan cache names (no re-read), and restores', async () => {
    const folder = join(dir.path, 'upgrade')
    await mkdir(folder, { recursive: true })
    const data = text('upgrade', 70_000)
    await writeFile(join(folder, 'kept.log'), data)
    const stateDir = join(dir.path, 'state-upgrade')
    // the state a node had before compression: user key, and a scan cache naming format-1 chunks (no "z")
    const key = generateUserKey()
    const keys = deriveUserKeys(key)
    const chunk = sealBlock(keys, data) // one chunk (70,000 bytes < the 128 KiB maximum), sealed as format 1 did
    const { cid } = await blockstore.putBytes(chunk)
    const st = await stat(join(folder, 'kept.log'), { bigint: true })
    await mkdir(stateDir, { recursive: true })
    await writeFile(join(stateDir, 'user.key'), key, { mode: 0o600 })
    await writeFile(join(stateDir, 'scan-cache.json'), JSON.stringify({
      files: { 'kept.log': { size: st.size.toString(), mtimeNs: st.mtimeNs.toString(), ctimeNs: st.ctimeNs.toString(), ino: st.ino.toString(), sha256: createHash('sha256').update(data).digest('hex'), chunks: [cid.toString()] } },
      dirs: {}, device: st.dev.toString()
    }))
    await writeFile(join(folder, 'new.log'), text('new', 30_000))
    const sync = createPersonalFolder({ user: 'carol', folder, stateDir, blockstore, node: 'node-c', discoveryKey: discovery.publicKey, watch: false })
    const snap = await sync.snapshot()
    assert.equal(snap.stats.hashedFiles, 1, 'only the new file is read')
    const entries = await readDir(blockstore, keys, snap.root)
    const kept = entries.find(e => e.name === 'kept.log')
    const added = entries.find(e => e.name === 'new.log')
    assert.ok(kept?.kind === 'file' && kept.chunkFormat === undefined && kept.chunks[0].equals(cid))
    assert.ok(added?.kind === 'file' && added.chunkFormat === CHUNK_FORMAT.flagged)
    const out = join(dir.path, 'out-upgrade')
    await sync.restore('', { to: out })
    assert.deepEqual(await treeHashes(out), await treeHashes(folder))
  })
})
