import type { RootfsImages } from '@cachecloud/fixtures'
import type { BenchResult } from '../types.js'
import type { ChangedBlocks } from './blocks.js'
import type { CachePointFigures } from './cachepoint.js'
import type { TreeSize } from './du.js'
import type { CasyncFigures, ResticFigures, RsyncFigures } from './peers.js'
import type { SparseImportFigures } from './sparse-import.js'

export interface OsUpdateFigures {
  images: RootfsImages
  imagesMs: number
  cachepoint: CachePointFigures
  cachepointMs: number
  casync: CasyncFigures
  restic: ResticFigures
  rsync: RsyncFigures
  blocks: ChangedBlocks
}

const MB = 1e6
const mb = (bytes: number): string => `${(bytes / MB).toFixed(1)} MB`
const size = (s: TreeSize): string => `${mb(s.apparent)} in ${s.files} files / ${mb(s.allocated)} allocated`

function ratioRow (row: Omit<BenchResult, 'ratio' | 'met'> & { value: number, baseline: number, limit?: number }): BenchResult {
  const { limit, ...rest } = row
  const ratio = row.value / row.baseline
  return { ...rest, ratio, ...(limit === undefined ? {} : { met: ratio <= limit }) }
}

/** The goals for the OS update, each against a baseline measured in the same run. */
export function osUpdateRows (f: OsUpdateFigures): BenchResult[] {
  const { cachepoint: cp, casync, restic, rsync, blocks } = f
  const wire = cp.pullV2.wireBytes
  const pulled = `v2 delta pull: ${mb(wire)} on the wire, ${mb(cp.pullV2.fetchedBytes)} of blocks (${cp.pullV2.fetchedBlocks} blocks; diff says ${cp.diff.fetchBlocks} blocks, ${mb(cp.diff.fetchBytes)} of ${cp.diff.blockSize / 1024} KiB)`
  return [
    ratioRow({
      name: 'OS update: v1->v2 delta pull wire bytes / casync new chunks',
      value: wire / MB,
      unit: 'MB',
      baselineName: 'casync make, new chunk bytes for v2',
      baseline: casync.v2NewBytes / MB,
      goal: '<= 1.0',
      limit: 1.0,
      note: `${pulled}; images ${f.images.built ? 'built' : 'cached'} in ${(f.imagesMs / 1000).toFixed(0)} s, CachePoint part ${(f.cachepointMs / 1000).toFixed(0)} s`
    }),
    ratioRow({
      name: 'OS update: v1->v2 delta pull wire bytes / raw changed blocks',
      value: wire / MB,
      unit: 'MB',
      baselineName: `changed 256 KiB blocks, raw (${blocks.blocks})`,
      baseline: blocks.bytes / MB,
      goal: '<= 0.45',
      limit: 0.45
    }),
    ratioRow({
      name: 'OS update: CachePoint store after v1+v2 / casync store',
      value: cp.storeAfterV2.apparent / MB,
      unit: 'MB',
      baselineName: 'casync store after v1+v2',
      baseline: casync.storeAfterV2.apparent / MB,
      goal: '<= 1.0',
      limit: 1.0,
      note: `bytes of stored files compared; pulling node's store after v1 ${size(cp.storeAfterV1)}, after v2 ${size(cp.storeAfterV2)}; seed's store ${size(cp.seedStore)}; casync store after v1 ${size(casync.storeAfterV1)}, after v2 ${size(casync.storeAfterV2)}`
    }),
    recompressRow(cp),
    ratioRow({
      name: 'OS update: v1->v2 delta pull time / rsync local delta time',
      value: cp.pullV2.durationMs / 1000,
      unit: 's',
      baselineName: 'rsync --no-whole-file --inplace, local',
      baseline: rsync.ms / 1000,
      goal: '<= 0.35',
      limit: 0.35,
      note: `pull as the daemon reports it; ${(cp.pullV2WallMs / 1000).toFixed(2)} s through the control API; rsync runs ${rsync.runsMs.map(ms => (ms / 1000).toFixed(2)).join(' s, ')} s (best taken); rsync literal data ${mb(rsync.literalBytes)}, matched ${mb(rsync.matchedBytes)}`
    }),
    ratioRow({
      name: 'OS update: changed blocks zstd -3, per block / one stream',
      value: blocks.perBlockBytes / MB,
      unit: 'MB',
      baselineName: 'one zstd -3 stream',
      baseline: blocks.oneStreamBytes / MB,
      goal: '<= 1.10',
      limit: 1.1,
      note: `${blocks.blocks} changed blocks, ${mb(blocks.bytes)} raw; each block kept raw where zstd does not shrink it`
    }),
    ratioRow({
      name: 'OS update: restic repository growth for v2 (reference)',
      value: restic.v2NewBytes / MB,
      unit: 'MB',
      baselineName: 'casync new chunks for v2',
      baseline: casync.v2NewBytes / MB,
      note: `restic repository after v1 ${size(restic.repoAfterV1)}, after v2 ${size(restic.repoAfterV2)}; stats --mode raw-data: ${restic.rawDataAfterV2 ?? '?'}`
    })
  ]
}

/** Issue 11: time to import a sparse image, bounded by its allocated bytes. */
export function sparseImportRows (f: SparseImportFigures): BenchResult[] {
  const gib = f.sparseSize / 2 ** 30
  return [ratioRow({
    name: `import of a sparse ${gib} GiB image / the same ${(f.denseSize / 2 ** 20).toFixed(0)} MiB dense`,
    value: f.sparseMs / 1000,
    unit: 's',
    baselineName: 'dense import of the same data',
    baseline: f.denseMs / 1000,
    goal: '<= 1.25 (time bounded by allocated bytes)',
    limit: 1.25,
    note: `${mb(f.sparseAllocated)} allocated of ${gib} GiB; ${(f.sparseSize / MB / (f.sparseMs / 1000)).toFixed(0)} MB/s of image length; reading the whole file (holes included) alone takes ${(f.readAllMs / 1000).toFixed(2)} s`
  })]
}

/** The seed's recompression at rest of v2's new blocks, beside its import of v2: what the smaller delta costs the publisher. */
function recompressRow (cp: CachePointFigures): BenchResult {
  const [r1, r2] = cp.recompressions
  const import2 = cp.imports[1]
  const saved = (r: typeof r1): string => r === undefined ? '-' : `${mb(r.storedBefore)} -> ${mb(r.storedAfter)} stored, ${r.blocks} blocks in ${(r.ms / 1000).toFixed(1)} s`
  return {
    name: `OS update: v2 recompression at rest (level ${r2?.level ?? 0}, background) / v2 import`,
    value: (r2?.ms ?? 0) / 1000,
    unit: 's',
    baselineName: 'the import of v2 (level 3)',
    baseline: (import2?.durationMs ?? 0) / 1000,
    ratio: (r2?.ms ?? 0) / Math.max(1, import2?.durationMs ?? 0),
    note: `seed: v1 ${saved(r1)}; v2 ${saved(r2)}; the edge pulls after both (a rollout starts from the recompressed form)`
  }
}
