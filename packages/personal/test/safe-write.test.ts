import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { chown, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import * as dagCbor from '@ipld/dag-cbor'
import { cidOf, DAG_CBOR_CODEC } from '@cachecloud/core'
import {
  deriveUserKeys, DIR_FORMAT_V3, DirectoryOrderError, generateUserKey, readDir, restoreTree, sealBlock, UnsafePathError
} from '../src/index.js'
import { applyMerge } from '../src/apply.js'
import { flattenTree, planMerge } from '../src/merge.js'
import { Crafter } from './craft.js'
import { tempDir } from './helpers.js'

// What a forged or hostile tree can make a restore or merge do: nothing
// outside the target folder, no setuid bits, files owned by the folder's owner.
describe('writing a snapshot tree never leaves the target folder', () => {
  let tmp: { path: string, cleanup: () => Promise<void> }
  let outside: string
  let n = 0
  const userKey = generateUserKey()
  const keys = deriveUserKeys(userKey)
  const fresh = async (): Promise<string> => { const d = join(tmp.path, `folder-${n++}`); await mkdir(d); return d }

  before(async () => {
    tmp = await tempDir('personal-safe-')
    outside = join(tmp.path, 'outside')
    await mkdir(outside)
  })
  after(async () => { await tmp.cleanup() })

  it('a directory naming `docs` twice (a symlink to /outside, then a directory) is refused, and nothing is written outside', async () => {
    const c = new Crafter(userKey)
    const root = c.dirBlock([c.link('docs', outside), c.dir('docs', [c.file('authorized_keys', 'ssh-ed25519 AAAA attacker\n')])])
    await assert.rejects(readDir(c.source, keys, root), DirectoryOrderError)
    await assert.rejects(restoreTree(c.source, keys, root, '', await fresh()), DirectoryOrderError)
    assert.deepEqual(await readdir(outside), [])
  })

  it('a directory whose entries are not sorted is refused (format 3, sealed by hand with the real cipher)', async () => {
    const chunk = sealBlock(keys, Buffer.from('x'))
    const chunkCid = cidOf(chunk)
    const entry = (name: string): Record<string, unknown> => ({ n: name, k: 0, p: 0o644, m: 0, s: 1, h: new Uint8Array(32), c: [0] })
    const block = dagCbor.encode({ l: [chunkCid], s: sealBlock(keys, dagCbor.encode({ f: DIR_FORMAT_V3, e: [entry('b'), entry('a')] })) })
    const cid = cidOf(block, DAG_CBOR_CODEC)
    const source = { get: async () => block }
    await assert.rejects(readDir(source, keys, cid), (err: Error) => err instanceof DirectoryOrderError && /not sorted/.test(err.message))
  })

  it('two restores into one folder (first a symlink `b` to /outside, then a directory `b`) do not escape', async () => {
    const c = new Crafter(userKey)
    const first = c.dirBlock([c.link('b', outside)])
    const second = c.dirBlock([c.dir('b', [c.file('authorized_keys', 'attacker\n')])])
    const folder = await fresh()
    await restoreTree(c.source, keys, first, '', folder)
    assert.equal(await readlink(join(folder, 'b')), outside)
    await assert.rejects(restoreTree(c.source, keys, second, '', folder), (err: Error) => err instanceof UnsafePathError && /b is a symlink/.test(err.message))
    // a single file under it is refused the same way
    await assert.rejects(restoreTree(c.source, keys, second, 'b/authorized_keys', folder), UnsafePathError)
    assert.deepEqual(await readdir(outside), [])
  })

  it('a restore never writes over a special file (a FIFO in the way)', async () => {
    const c = new Crafter(userKey)
    const root = c.dirBlock([c.file('pipe', 'data')])
    const folder = await fresh()
    execFileSync('mkfifo', [join(folder, 'pipe')])
    await assert.rejects(restoreTree(c.source, keys, root, '', folder), (err: Error) => err instanceof UnsafePathError && /special file/.test(err.message))
    assert.ok((await lstat(join(folder, 'pipe'))).isFIFO())
  })

  it('a merge does not write through a symlinked directory of the live folder', async () => {
    const c = new Crafter(userKey)
    const folder = await fresh()
    await symlink(outside, join(folder, 'docs'))
    // the local snapshot holds the symlink (what the scan sees); the remote one a directory of that name
    const local = await flattenTree(c.source, keys, c.dirBlock([c.link('docs', outside)]))
    const remoteRoot = c.dirBlock([c.dir('docs', [c.file('authorized_keys', 'attacker\n')])])
    const remote = await flattenTree(c.source, keys, remoteRoot)
    const plan = planMerge(local, remote, new Map(), 'nodeA', 'nodeB')
    assert.ok(plan.actions.some(a => a.path === 'docs/authorized_keys'), JSON.stringify(plan.actions.map(a => a.path)))
    const result = await applyMerge({ folder, blocks: c.source, keys, remote }, plan)
    assert.ok(result.skipped.includes('docs/authorized_keys'))
    assert.deepEqual(await readdir(outside), [])
  })

  it('restore and merge keep permission bits only and give files the folder owner (run as root)', { skip: process.getuid?.() !== 0 }, async () => {
    const c = new Crafter(userKey)
    const root = c.dirBlock([c.file('tool', '#!/bin/sh\n', 0o6755), c.dir('shared', [c.file('x', 'x', 0o4644)], 0o3775)])
    const folder = await fresh()
    await chown(folder, 1234, 2345)
    await restoreTree(c.source, keys, root, '', folder)
    for (const [path, mode] of [['tool', 0o755], ['shared', 0o775], ['shared/x', 0o644]] as const) {
      const st = await lstat(join(folder, path))
      assert.equal(st.mode & 0o7777, mode, `${path} mode ${(st.mode & 0o7777).toString(8)}`)
      assert.deepEqual([st.uid, st.gid], [1234, 2345], path)
    }
    // a merge writes the same way
    const remote = await flattenTree(c.source, keys, c.dirBlock([c.file('merged', 'm', 0o6777)]))
    const plan = planMerge({ leaves: new Map(), dirs: new Set() }, remote, new Map(), 'nodeA', 'nodeB')
    await applyMerge({ folder, blocks: c.source, keys, remote }, plan)
    const st = await lstat(join(folder, 'merged'))
    assert.equal(st.mode & 0o7777, 0o777)
    assert.deepEqual([st.uid, st.gid], [1234, 2345])
    assert.equal(await readFile(join(folder, 'merged'), 'utf8'), 'm')
  })

  it('restoring the same tree twice replaces files and symlinks in place', async () => {
    const c = new Crafter(userKey)
    const root = c.dirBlock([c.file('a.txt', 'v1'), c.link('l', 'a.txt'), c.dir('d', [c.file('b', 'b')])])
    const folder = await fresh()
    await writeFile(join(folder, 'a.txt'), 'old')
    await restoreTree(c.source, keys, root, '', folder)
    await restoreTree(c.source, keys, root, '', folder)
    assert.equal(await readFile(join(folder, 'a.txt'), 'utf8'), 'v1')
    assert.equal(await readlink(join(folder, 'l')), 'a.txt')
    assert.equal(await readFile(join(folder, 'd/b'), 'utf8'), 'b')
    assert.deepEqual((await readdir(folder)).sort(), ['a.txt', 'd', 'l'])
  })
})
