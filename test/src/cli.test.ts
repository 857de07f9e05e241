import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeSparseImage } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'
import { cli, type CliRun } from './cli-run.js'

function oneLineError (run: CliRun, pattern: RegExp): void {
  const lines = run.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line of error, got: ${run.stderr}`)
  assert.match(lines[0], pattern)
}

describe('cachepoint CLI', () => {
  let cluster: TestCluster
  let node: LaunchedCachePoint
  let imageFile: string

  before(async () => {
    cluster = await createTestCluster('cli')
    imageFile = join(cluster.dir, 'small.raw')
    await makeSparseImage(imageFile, 8 * 1024 * 1024, [{ offset: 0, length: 1024 * 1024 }, { offset: 5 * 1024 * 1024, length: 300_000 }])
    node = await cluster.start('node')
  })

  after(async () => { await cluster.close() })

  it('imports and lists with --json for scripts', async () => {
    const run = await cli(node.dataDir, '--json', 'image', 'import', imageFile, '--name', 'small', '--version', '1.0')
    assert.equal(run.code, 0, run.stderr)
    const result = JSON.parse(run.stdout) as { ref: string, holes: number }
    assert.equal(result.ref, 'small@1.0')
    assert.ok(result.holes > 0)
    const ls = await cli(node.dataDir, '--json', 'image', 'ls')
    assert.deepEqual((JSON.parse(ls.stdout) as Array<{ name: string }>).map(v => v.name), ['small'])
    const status = await cli(node.dataDir, 'status')
    assert.equal(status.code, 0)
    assert.match(status.stdout, /peer id:\s+12D3Koo/)
  })

  it('answers bad input with one line and an exit code that means something', async () => {
    oneLineError(await cli(node.dataDir, 'image', 'import', join(cluster.dir, 'nope.raw'), '--name', 'x', '--version', '1'), /nope\.raw/)
    assert.equal((await cli(node.dataDir, 'image', 'import', join(cluster.dir, 'nope.raw'), '--name', 'x', '--version', '1')).code, 4)

    const exists = await cli(node.dataDir, 'image', 'import', imageFile, '--name', 'small', '--version', '1.0')
    assert.equal(exists.code, 5)
    oneLineError(exists, /small@1\.0.*exists|exists.*small@1\.0/)

    const unknown = await cli(node.dataDir, 'image', 'export', 'ghost@1', join(cluster.dir, 'out.raw'))
    assert.equal(unknown.code, 4)
    oneLineError(unknown, /ghost/)

    const badRef = await cli(node.dataDir, 'image', 'pull', 'no-version-here')
    assert.equal(badRef.code, 2)
    oneLineError(badRef, /NAME@VERSION/)

    const noPeers = await cli(node.dataDir, 'image', 'pull', 'small@2.0')
    assert.equal(noPeers.code, 7)
    oneLineError(noPeers, /no peer/)

    const badBlockSize = await cli(node.dataDir, 'image', 'import', imageFile, '--name', 'small', '--version', '3', '--block-size', 'huge')
    assert.equal(badBlockSize.code, 2)

    const unknownCommand = await cli(node.dataDir, 'frobnicate')
    assert.equal(unknownCommand.code, 2)
  })

  it('says the daemon is not running, with exit code 3', async () => {
    const run = await cli(join(cluster.dir, 'never-initialized'), 'status')
    assert.equal(run.code, 3)
    oneLineError(run, /no CachePoint daemon is running/)
  })

  it('refuses a corrupt config in one line', async () => {
    const dir = join(cluster.dir, 'broken')
    await cli(dir, 'init')
    await writeFile(join(dir, 'config.json'), '{ "listen": [42] }')
    const run = await cli(dir, 'daemon')
    assert.equal(run.code, 9)
    oneLineError(run, /"listen" must be a list of strings/)
  })

  it('refuses to init twice', async () => {
    const dir = join(cluster.dir, 'twice')
    assert.equal((await cli(dir, 'init')).code, 0)
    const again = await cli(dir, 'init')
    assert.equal(again.code, 5)
    oneLineError(again, /already/)
  })
})
