import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { initLoopbackNode, launchCachePoint, type LaunchedCachePoint } from 'cachepoint/launcher'
import type { InitOptions } from '@cachecloud/daemon'

/** A temporary directory for one test file, with the daemons it started; `close()` stops them and removes it. */
export interface TestCluster {
  dir: string
  /** Initializes a data directory (loopback only) and starts a real `cachepoint daemon` process on it. */
  start(name: string, options?: InitOptions): Promise<LaunchedCachePoint & { publisherKey: string }>
  /** Starts the daemon of an existing data directory again (after stop or kill). */
  restart(name: string): Promise<LaunchedCachePoint>
  close(): Promise<void>
}

export async function createTestCluster (prefix: string): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), `cc-${prefix}-`))
  const running: LaunchedCachePoint[] = []
  const launch = async (name: string): Promise<LaunchedCachePoint> => {
    const node = await launchCachePoint({ dataDir: join(dir, name), logLevel: 'debug' })
    running.push(node)
    return node
  }
  return {
    dir,
    async start (name, options) {
      const init = await initLoopbackNode(join(dir, name), options)
      return { ...(await launch(name)), publisherKey: init.publisherKey }
    },
    restart: launch,
    async close () {
      await Promise.all(running.map(async (node) => node.stop()))
      if (process.env.KEEP_TEST_DIRS === undefined) await rm(dir, { recursive: true, force: true })
    }
  }
}
