import { join } from 'node:path'
import { initLoopbackNode, launchCachePoint, type LaunchedCachePoint } from 'cachepoint/launcher'
import { recompressed, type RecompressFigures } from '../recompressed.js'
import { du, timed, type TreeSize } from './du.js'

type Client = LaunchedCachePoint['client']
type ImportResultInfo = Awaited<ReturnType<Client['importImage']>>
type PullResultInfo = Awaited<ReturnType<Client['pull']>>
type DiffInfo = Awaited<ReturnType<Client['diff']>>

/** What two real CachePoint daemons did with v1 and v2: the seed imports both, the second pulls v1 then v2. */
export interface CachePointFigures {
  imports: ImportResultInfo[]
  /** After each import, before the edge pulls: what a publisher's rollout starts from. */
  recompressions: RecompressFigures[]
  pullV1: PullResultInfo
  /** The v1 -> v2 delta pull, as the daemon reports it (wireBytes: bytes on the wire; fetchedBytes: block bytes). */
  pullV2: PullResultInfo
  /** Wall clock of the v2 pull request, control API round trip included. */
  pullV2WallMs: number
  diff: DiffInfo
  /** The pulling node's block store directory after v1, and after v2. */
  storeAfterV1: TreeSize
  storeAfterV2: TreeSize
  /** The seed's block store after importing both. */
  seedStore: TreeSize
}

/** Store directory inside a data directory (the daemon's BLOCKS_DIR). */
const STORE_DIR = 'store'

export async function measureCachePoint (dir: string, v1: string, v2: string): Promise<CachePointFigures> {
  const nodes: LaunchedCachePoint[] = []
  try {
    const seedDir = join(dir, 'seed')
    const edgeDir = join(dir, 'edge')
    const seedInit = await initLoopbackNode(seedDir)
    await initLoopbackNode(edgeDir, { trustedPublishers: [seedInit.publisherKey] })
    const seed = await launchCachePoint({ dataDir: seedDir })
    nodes.push(seed)
    const edge = await launchCachePoint({ dataDir: edgeDir })
    nodes.push(edge)
    const imports: ImportResultInfo[] = []
    const recompressions: RecompressFigures[] = []
    for (const [version, file] of [['v1', v1], ['v2', v2]] as const) {
      const storedBefore = (await seed.client.status()).store.storedBytes
      imports.push(await seed.client.importImage({ file, name: 'os', version }, () => {}))
      recompressions.push(await recompressed(seed.client, `os@${version}`, storedBefore))
    }
    const pullV1 = await edge.client.pull({ ref: 'os@v1', from: [seed.address] }, () => {})
    const storeAfterV1 = await du(join(edgeDir, STORE_DIR))
    const { value: pullV2, ms: pullV2WallMs } = await timed(async () => edge.client.pull({ ref: 'os@v2', from: [seed.address] }, () => {}))
    const storeAfterV2 = await du(join(edgeDir, STORE_DIR))
    const diff = await seed.client.diff('os@v1', 'os@v2')
    return { imports, recompressions, pullV1, pullV2, pullV2WallMs, diff, storeAfterV1, storeAfterV2, seedStore: await du(join(seedDir, STORE_DIR)) }
  } finally {
    await Promise.all(nodes.map(async (n) => n.stop()))
  }
}
