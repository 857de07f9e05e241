import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { findTool, makeSparseImage, run } from '@cachecloud/fixtures'
import { CLI_PATH, type LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'
import { cli } from './cli-run.js'

/** A float printed raw (575.9544212725189) rather than for people. */
const RAW_FLOAT = /\d\.\d{4,}/

describe('cachepoint output for people', () => {
  let cluster: TestCluster
  let node: LaunchedCachePoint
  let one: string

  before(async () => {
    cluster = await createTestCluster('admin-output')
    one = join(cluster.dir, 'one.raw')
    await makeSparseImage(one, 64 * 1024, [{ offset: 0, length: 64 * 1024 }], 'one-block')
    node = await cluster.start('node')
  })

  after(async () => { await cluster.close() })

  it('says 1 block, not 1 blocks; prints no raw floats and, without a terminal, no stale progress line', async () => {
    const r = await cli(node.dataDir, 'image', 'import', one, '--name', 'one', '--version', '1', '--block-size', '64K')
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /in 1 block, 0 holes/)
    assert.match(r.stdout, /1 new block \(/)
    assert.doesNotMatch(r.stdout, RAW_FLOAT)
    assert.equal(r.stderr, '', 'a quick import prints no progress line when stderr is not a terminal')
    const status = await cli(node.dataDir, 'status')
    assert.match(status.stdout, /store:\s+\d+ blocks?,/)
    assert.doesNotMatch(status.stdout, /\b1 blocks\b|\b1 connections\b/)
    const gc = await cli(node.dataDir, 'image', 'gc')
    assert.match(gc.stdout, /removed 0 blocks/)
  })

  it('on a terminal, the bar shows a rate and ETA for people (never NaN, INF or NFs)', async (t) => {
    const tty = await findTool('script')
    if (tty === undefined) {
      t.skip('no script(1) to give the CLI a terminal')
      return
    }
    const big = join(cluster.dir, 'big.raw')
    await makeSparseImage(big, 96 * 1024 * 1024, [{ offset: 0, length: 96 * 1024 * 1024 }], 'tty')
    const command = [process.execPath, CLI_PATH, '--data-dir', node.dataDir, 'image', 'import', big, '--name', 'big', '--version', '1'].map(a => `'${a}'`).join(' ')
    const r = await run('script', ['-qfec', command, '/dev/null'])
    assert.equal(r.code, 0, r.stdout)
    const frames = r.stdout.split(/\r|\n/).filter(f => f.includes('ETA'))
    assert.ok(frames.length > 0, r.stdout)
    for (const frame of frames) {
      assert.doesNotMatch(frame, /NaN|INF|Infinity|NFs|null/i, frame)
      assert.doesNotMatch(frame, RAW_FLOAT, frame)
    }
    assert.match(frames.at(-1) ?? '', /100% \| 96\.0 MiB\/96\.0 MiB \| [\d.]+ [KMG]?i?B\/s \| ETA 0\.0s/)
  })

  it('shows in status that transfers are paused', async () => {
    assert.equal((await cli(node.dataDir, 'pause')).code, 0)
    assert.match((await cli(node.dataDir, 'status')).stdout, /transfers:\s+PAUSED/)
    assert.equal((await cli(node.dataDir, 'resume')).code, 0)
    assert.match((await cli(node.dataDir, 'status')).stdout, /transfers:\s+running/)
  })

  it('keeps the job table short and puts an error on its own line, cut to one line', async () => {
    for (let i = 0; i < 7; i++) {
      assert.equal((await cli(node.dataDir, 'image', 'import', one, '--name', 'many', '--version', `${i}`, '--block-size', '64K')).code, 0)
    }
    const missing = join(cluster.dir, `${'very-long-name-'.repeat(12)}.raw`)
    assert.equal((await cli(node.dataDir, 'image', 'import', missing, '--name', 'gone', '--version', '1')).code, 4)
    const text = (await cli(node.dataDir, 'status')).stdout
    const jobLines = text.split('\n').filter(l => /^import\s/.test(l))
    assert.ok(jobLines.length <= 5, `at most 5 finished jobs listed, got ${jobLines.length}:\n${text}`)
    assert.match(text, /older finished jobs not shown/)
    const failed = text.split('\n').findIndex(l => /^import\s+gone@1\s+failed\b/.test(l))
    assert.ok(failed > 0, text)
    const error = text.split('\n')[failed + 1]
    assert.match(error, /^ {2}error: /)
    assert.ok(error.length <= 120, `the error line is cut: ${error.length} characters`)
    assert.ok(text.split('\n')[failed].length < 120, 'the STATE column holds no message')
  })

  it('exits 4 for a version no peer has, on pull too', async () => {
    const other = await cluster.start('other')
    const r = await cli(other.dataDir, 'image', 'pull', 'one@9.9', '--from', node.address)
    assert.equal(r.code, 4, r.stderr)
    assert.match(r.stderr, /one@9\.9/)
  })
})
