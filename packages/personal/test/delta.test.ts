import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { cidOf, DAG_CBOR_CODEC, type CID } from '@cachecloud/core'
import { applyDirDelta, deriveUserKeys, dirLinks, encodeDirDelta, generateUserKey, openDir, readDir, sealBlock, sealDir, type Entry } from '../src/index.js'

const keys = deriveUserKeys(generateUserKey())
const chunk = (s: string): CID => cidOf(new TextEncoder().encode(s))
const file = (name: string, content: string): Entry => ({
  kind: 'file', name, mode: 0o644, mtimeMs: 1_700_000_000_000, size: content.length,
  sha256: createHash('sha256').update(content).digest(), chunks: [chunk(content), chunk(content + '/2')]
})

describe('directory blocks (format 4) and their deltas', () => {
  const entries = Array.from({ length: 20 }, (_, i) => file(`f${String(i).padStart(2, '0')}`, `content ${i}`))
  const before = sealDir(keys, entries)
  const changed = entries.map((e, i) => i === 11 ? file(e.name, 'edited') : e)
  const after = sealDir(keys, changed)

  it('opens to the same entries; an unchanged entry seals to the same bytes', () => {
    assert.deepEqual(openDir(keys, after.bytes).map(e => e.name), changed.map(e => e.name))
    const e11 = openDir(keys, after.bytes)[11]
    assert.ok(e11.kind === 'file' && e11.chunks[0].equals(chunk('edited')))
    const sealed = (b: Uint8Array): Uint8Array[] => (dagCbor.decode(b) as { e: Uint8Array[] }).e
    const same = sealed(after.bytes).filter((x, i) => Buffer.from(x).equals(sealed(before.bytes)[i])).length
    assert.equal(same, 19)
  })

  it('a one-entry edit travels as a delta a fraction of the block, rebuilt byte for byte', () => {
    const delta = encodeDirDelta(before.cid, before.bytes, after.bytes)
    assert.ok(delta !== undefined)
    const size = dagCbor.encode({ b: delta.base, l: delta.l, e: delta.e, s: delta.s }).byteLength
    assert.ok(size < after.bytes.byteLength / 4, `delta ${size} bytes, block ${after.bytes.byteLength}`)
    const rebuilt = applyDirDelta(before.bytes, delta)
    assert.ok(cidOf(rebuilt, DAG_CBOR_CODEC).equals(after.cid))
  })

  it('swapping sealed entries or links is detected by the sealed header', () => {
    const v = dagCbor.decode(after.bytes) as { l: CID[], e: Uint8Array[], s: Uint8Array }
    const swapped = dagCbor.encode({ l: v.l, e: [v.e[1], v.e[0], ...v.e.slice(2)], s: v.s })
    assert.throws(() => openDir(keys, swapped), { name: 'InvalidPersonalFormatError' })
    const relinked = dagCbor.encode({ l: [v.l[1], v.l[0], ...v.l.slice(2)], e: v.e, s: v.s })
    assert.throws(() => openDir(keys, relinked), { name: 'InvalidPersonalFormatError' })
  })
})

describe('directory blocks of format 3 (written before format 4)', () => {
  it('are still read, paged or not, with their chunks and subdirectories', async () => {
    const sha = createHash('sha256').update('old').digest()
    const c1 = chunk('old-1')
    const sub = chunk('a subdirectory block')
    const links = [c1, sub].sort((a, b) => a.toString() < b.toString() ? -1 : 1)
    const at = (c: CID): number => links.findIndex(l => l.equals(c))
    const sealedEntries = sealBlock(keys, dagCbor.encode({
      f: 'cachecloud/personal-dir/3', e: [
        { n: 'old.txt', k: 0, p: 0o644, m: 1000, s: 3, h: sha, c: [at(c1)] },
        { n: 'sub', k: 1, p: 0o755, m: 2000, d: at(sub) }
      ]
    }))
    const page = dagCbor.encode({ l: links, s: sealedEntries })
    const pageCid = cidOf(page, DAG_CBOR_CODEC)
    const top = dagCbor.encode({ l: [pageCid], s: sealBlock(keys, dagCbor.encode({ f: 'cachecloud/personal-dir/3', e: [], g: [0] })) })
    const topCid = cidOf(top, DAG_CBOR_CODEC)
    const blocks = new Map([[pageCid.toString(), page], [topCid.toString(), top]])
    const entries = await readDir({ get: async (c: CID) => blocks.get(c.toString())! }, keys, topCid)
    assert.deepEqual(entries.map(e => e.name), ['old.txt', 'sub'])
    assert.ok(entries[0].kind === 'file' && entries[0].chunks[0].equals(c1) && entries[0].size === 3)
    assert.ok(entries[1].kind === 'dir' && entries[1].dir.equals(sub))
    assert.deepEqual(dirLinks(top).map(String), [pageCid.toString()])
  })
})
