import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { conflictName, planMerge, versionKey } from '../src/index.js'
import type { FlatTree, Leaf } from '../src/merge.js'

const file = (content: string, mtimeMs = 1000): Leaf =>
  ({ kind: 'file', name: 'x', mode: 0o644, mtimeMs, size: content.length, sha256: createHash('sha256').update(content).digest(), chunks: [] })
const tree = (leaves: Record<string, Leaf>): FlatTree => ({ leaves: new Map(Object.entries(leaves)), dirs: new Set() })
const base = (leaves: Record<string, Leaf>): Map<string, string> => new Map(Object.entries(leaves).map(([p, e]) => [p, versionKey(e)!]))

describe('three-way merge plan', () => {
  const v1 = file('v1')
  it('applies a remote-only change, keeps a local-only change, ignores an identical change', () => {
    const plan = planMerge(
      tree({ a: v1, b: file('b-local'), c: file('same') }),
      tree({ a: file('a-remote'), b: v1, c: file('same') }),
      base({ a: v1, b: v1, c: v1 }), 'nodeA', 'nodeB')
    assert.deepEqual(plan.actions.map(a => [a.type, a.path]), [['write', 'a']])
  })

  it('a remote node that is merely behind (its version is the base) reverts nothing', () => {
    const plan = planMerge(tree({ p: file('newer, from a third machine') }), tree({ p: v1 }), base({ p: v1 }), 'nodeA', 'nodeC')
    assert.deepEqual(plan.actions, [])
  })

  it('creates what only the remote has, deletes what the remote deleted, keeps a local addition', () => {
    const plan = planMerge(tree({ gone: v1, mine: file('m') }), tree({ fresh: file('f') }), base({ gone: v1 }), 'nodeA', 'nodeB')
    assert.deepEqual(plan.actions.map(a => [a.type, a.path]), [['write', 'fresh'], ['delete', 'gone']])
  })

  it('an edit wins over a concurrent deletion, on either side', () => {
    const localEdit = planMerge(tree({ p: file('edited') }), tree({}), base({ p: v1 }), 'nodeA', 'nodeB')
    assert.deepEqual(localEdit.actions, [])
    const remoteEdit = planMerge(tree({}), tree({ p: file('edited') }), base({ p: v1 }), 'nodeA', 'nodeB')
    assert.deepEqual(remoteEdit.actions.map(a => a.type), ['write'])
  })

  it('a conflict keeps the later edit in place and names the copy after the losing node and mtime, alike on both nodes', () => {
    const early = file('laptop', Date.parse('2026-11-25T10:00:00Z'))
    const late = file('desktop', Date.parse('2026-11-25T11:30:05Z'))
    const onLaptop = planMerge(tree({ 'docs/r.txt': early }), tree({ 'docs/r.txt': late }), base({ 'docs/r.txt': v1 }), '12D3KooWlaptopAAAA', '12D3KooWdesktopBBB')
    const onDesktop = planMerge(tree({ 'docs/r.txt': late }), tree({ 'docs/r.txt': early }), base({ 'docs/r.txt': v1 }), '12D3KooWdesktopBBB', '12D3KooWlaptopAAAA')
    const a = onLaptop.actions[0]
    const b = onDesktop.actions[0]
    assert.ok(a.type === 'conflict' && b.type === 'conflict')
    assert.equal(a.winner, 'remote')
    assert.equal(b.winner, 'local')
    assert.equal(a.copyPath, 'docs/r.conflict-ptopAAAA-20261125-100000.txt')
    assert.equal(b.copyPath, a.copyPath)
    // same mtime: the greater node id wins on both
    const tieA = planMerge(tree({ p: file('x', 5) }), tree({ p: file('y', 5) }), base({ p: v1 }), 'nodeA', 'nodeB').actions[0]
    const tieB = planMerge(tree({ p: file('y', 5) }), tree({ p: file('x', 5) }), base({ p: v1 }), 'nodeB', 'nodeA').actions[0]
    assert.ok(tieA.type === 'conflict' && tieB.type === 'conflict')
    assert.deepEqual([tieA.winner, tieB.winner, tieA.copyPath === tieB.copyPath], ['remote', 'local', true])
  })

  it('names conflict copies of dotfiles and names without an extension', () => {
    assert.equal(conflictName('.bashrc', 'abcdefgh12345678', 0), '.bashrc.conflict-12345678-19700101-000000')
    assert.equal(conflictName('a/Makefile', 'n', 0), 'a/Makefile.conflict-n-19700101-000000')
    assert.equal(conflictName('a/x.tar.gz', 'n', 0), 'a/x.tar.conflict-n-19700101-000000.gz')
  })
})
