import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { initLoopbackNode, launchCachePoint, type LaunchedCachePoint } from 'cachepoint/launcher'
import { cli } from './cli-run.js'

// Issue 12 (low): names with control characters reached the terminal as they
// were: an escape sequence in a path or a peer's text could clear the screen,
// retitle the window or hide lines. The CLI shows them escaped.

describe('the CLI escapes control characters in what it prints (real daemon)', () => {
  let dir: string
  let node: LaunchedCachePoint
  const evil = 'node\x1b]0;owned\x07\x1b[2J\u202e'

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'cc-escape-'))
    const dataDir = join(dir, evil)
    await initLoopbackNode(dataDir)
    node = await launchCachePoint({ dataDir })
  })

  after(async () => {
    await node?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('status shows a data directory named with escape sequences escaped, and no raw control character', async () => {
    const r = await cli(node.dataDir, 'status')
    assert.equal(r.code, 0, r.stderr)
    assert.doesNotMatch(r.stdout, /[\x00-\x09\x0b-\x1f\x7f\u202e]/, 'no raw control character reaches the terminal')
    assert.ok(r.stdout.includes('node\\x1b]0;owned\\x07\\x1b[2J\\u202e'), r.stdout)
    const json = await cli(node.dataDir, '--json', 'status')
    assert.equal((JSON.parse(json.stdout) as { dataDir: string }).dataDir, node.dataDir, '--json keeps the exact name (JSON escapes it)')
  })

  it('a one-line error naming such a path is escaped on stderr', async () => {
    const r = await cli(node.dataDir, 'image', 'import', join(dir, `missing${evil}.raw`), '--name', 'x', '--version', 'v1')
    assert.notEqual(r.code, 0)
    assert.doesNotMatch(r.stderr, /[\x00-\x09\x0b-\x1f\x7f\u202e]/)
    assert.match(r.stderr, /missing/)
  })
})
