import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { TempDirs } from '@cachecloud/test-utils'
import { pino } from 'pino'
import { createDaemon, initDataDir, parseConfig, type CachePointDaemon } from '../src/index.js'

const MiB = 1024 * 1024

describe('config "exportCacheMiB": the read cache of an NBD export pool', () => {
  const dirs = new TempDirs()
  let daemon: CachePointDaemon | undefined

  after(async () => {
    await daemon?.stop()
    await dirs.removeAll()
  })

  it('sizes the pool\'s shared cache (default 256 MiB) and refuses what is not a whole number of MiB', async () => {
    const dataDir = await dirs.make('export-cache-')
    const { config } = await initDataDir(dataDir, { listen: ['/ip4/127.0.0.1/tcp/0'] })
    daemon = createDaemon({ config: { ...config, exportCacheMiB: 8 }, logger: pino({ level: 'silent' }) })
    await daemon.start()
    await writeFile(join(dataDir, 'os.raw'), randomBytes(2 * MiB))
    await daemon.images.import({ file: join(dataDir, 'os.raw'), name: 'os', version: '1' }, () => {})
    const served = await daemon.exports.serve({ ref: 'os@1', port: 0, pool: { count: 2, prefix: 'vm' }, pull: false })
    assert.equal(served.pool?.cache.maxBytes, 8 * MiB)
    await daemon.exports.unserve(served.id)
    for (const bad of ['0', '1.5', '"64"']) {
      assert.throws(() => parseConfig(`{ "exportCacheMiB": ${bad} }`, 'config.json'), (err: Error & { code?: string }) =>
        err.code === 'ERR_INVALID_CONFIG' && err.message === 'config config.json: "exportCacheMiB" must be a whole number of at least 1')
    }
    assert.equal(parseConfig('{}', 'config.json').exportCacheMiB, undefined, 'absent: the default')
  })
})
