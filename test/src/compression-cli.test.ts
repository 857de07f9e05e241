import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { cli } from './cli-run.js'
import { createTestCluster, type TestCluster } from './nodes.js'

/** 4 MiB of text-like bytes (compressible about 3x), different per seed. */
function textImage (seed: number): Buffer {
  let x = seed
  let text = ''
  while (text.length < 4 * 1024 * 1024) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    text += `/usr/share/locale/${x % 400}/LC_MESSAGES/pkg-${(x >> 9) % 3000}.mo `
  }
  return Buffer.from(text.slice(0, 4 * 1024 * 1024))
}

const storeBytes = (dir: string): number => Number(execFileSync('du', ['-s', '-B1', join(dir, 'store')], { encoding: 'utf8' }).split('\t')[0])

describe('image import --compression-level (real daemon, CLI)', () => {
  let cluster: TestCluster
  let node: LaunchedCachePoint
  before(async () => {
    cluster = await createTestCluster('compression-cli')
    // what the import itself stores: no recompression at rest afterwards (it would grow the store while the next import is measured)
    node = await cluster.start('a', { restLevel: 0 })
  })
  after(async () => { await cluster.close() })

  it('0 keeps the blocks raw, a higher level stores fewer bytes than the default; a bad level is one line, exit 2', async () => {
    const dir = join(cluster.dir, 'a')
    const files = [1, 2, 3].map(seed => join(cluster.dir, `text-${seed}.raw`))
    await Promise.all(files.map(async (f, i) => { await writeFile(f, textImage(i + 1)) }))
    const growth: number[] = []
    for (const [i, level] of [0, 3, 12].entries()) {
      const before = storeBytes(dir)
      const run = await cli(dir, 'image', 'import', files[i] as string, '--name', 'text', '--version', `l${level}`, '--compression-level', String(level))
      assert.equal(run.code, 0, run.stderr)
      growth.push(storeBytes(dir) - before)
    }
    const [raw, dflt, high] = growth as [number, number, number]
    assert.ok(raw >= 4 * 1024 * 1024, `level 0 stored ${raw} bytes for 4 MiB`)
    assert.ok(dflt < raw / 2, `level 3 stored ${dflt} bytes`)
    assert.ok(high < dflt, `level 12 stored ${high} bytes, level 3 ${dflt}`)
    const bad = await cli(dir, 'image', 'import', files[0] as string, '--name', 'text', '--version', 'bad', '--compression-level', '25')
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /--compression-level must be a whole number from 0 to 19/)
    assert.equal(bad.stderr.trim().split('\n').length, 1)
    void node
  })
})
