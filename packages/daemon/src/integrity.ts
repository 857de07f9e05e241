/**
 * `cachepoint check` in the daemon: the image check (@cachecloud/image
 * checkImages) and its repair. A repair drops the damaged block entries and
 * rewrites the index log from the index (one commit: a log cut short or
 * damaged on disk is replaced), removes unreadable catalog entries, marks every
 * affected complete version incomplete (so nothing serves or advertises it as complete meanwhile),
 * then pulls each again: the pull fetches exactly the blocks the store no
 * longer holds, each verified against its CID on arrival.
 */
import type { CID } from 'multiformats/cid'
import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import type { CheckRequest, CheckResultInfo, ProgressSink, RepairInfo } from '@cachecloud/control'
import { formatVersionRef, parseVersionRef } from '@cachecloud/core'
import { checkImages, type Catalog, type CheckReport } from '@cachecloud/image'
import type { TrustStore } from '@cachecloud/manifest'
import { InvalidSubsetError } from './errors.js'

export interface IntegrityInit {
  catalog: Catalog
  blockstore: Blockstore
  trust: TrustStore
  logger: Logger
  /** Pulls a version again (from `from`, the configured peers or the swarm); resolves once it is complete. */
  pull: (ref: string, from: string[] | undefined, onProgress: ProgressSink) => Promise<void>
}

/** `N/T`: the N-th of T groups (by the block's hash: T runs cover every block once); `P%`: a random P percent. */
export function parseSubset (text: string): (cid: CID) => boolean {
  const group = /^(\d{1,6})\/(\d{1,6})$/.exec(text.trim())
  if (group !== null) {
    const n = Number(group[1])
    const t = Number(group[2])
    if (t >= 1 && n >= 1 && n <= t) {
      return (cid) => {
        const d = cid.multihash.digest
        const last = ((d[d.length - 4] as number) * 0x1000000 + (d[d.length - 3] as number) * 0x10000 +
          (d[d.length - 2] as number) * 0x100 + (d[d.length - 1] as number))
        return last % t === n - 1
      }
    }
  }
  const percent = /^(\d{1,3}(?:\.\d{1,6})?)%$/.exec(text.trim())
  if (percent !== null && Number(percent[1]) > 0 && Number(percent[1]) <= 100) {
    const p = Number(percent[1]) / 100
    return () => Math.random() < p
  }
  throw new InvalidSubsetError(`--read-data-subset must be N/T (1 <= N <= T, e.g. 1/5) or P% (0 < P <= 100, e.g. 10%), got ${JSON.stringify(text)}`)
}

export async function runCheck (init: IntegrityInit, request: CheckRequest, onProgress: ProgressSink): Promise<CheckResultInfo> {
  const select = request.readDataSubset === undefined ? undefined : parseSubset(request.readDataSubset)
  const base = { catalog: init.catalog, blockstore: init.blockstore, trust: init.trust }
  const outcome = await checkImages({ ...base, readData: request.readData === true || select !== undefined, select, onProgress })
  const report = withSubset(outcome.report, request.readDataSubset)
  init.logger.info({ ok: report.ok, problems: report.problems.length, damaged: report.damaged }, 'check: %s', report.ok ? 'no damage found' : report.problems.join('; '))
  if (request.repair !== true || report.ok) return report

  const repair: RepairInfo = { droppedBlocks: outcome.drop.length, indexLogRewritten: true, repaired: [], failed: [], remaining: [] }
  await init.blockstore.repair(outcome.drop)
  for (const entry of outcome.affected) if (entry.state === 'complete') await init.catalog.markIncomplete(entry)
  for (const ref of outcome.damagedRefs) await init.catalog.forget(parseVersionRef(ref))
  for (const ref of [...outcome.affected.map(e => formatVersionRef(e)), ...outcome.damagedRefs]) {
    try {
      await init.pull(ref, request.from, onProgress)
      repair.repaired.push(ref)
    } catch (err) {
      repair.failed.push({ ref, code: (err as { code?: string }).code ?? 'ERR_INTERNAL', message: (err as Error).message })
    }
  }
  // what is left: the structure and presence again (pulled blocks were verified on arrival)
  const after = (await checkImages(base)).report
  repair.remaining = after.problems
  const ok = after.ok && repair.failed.length === 0
  init.logger.info({ ok, repair }, 'check repair: %s', ok ? 'everything repaired' : after.problems.concat(repair.failed.map(f => `${f.ref}: ${f.message}`)).join('; '))
  return { ...report, ok, repair }
}

function withSubset (report: CheckReport, subset: string | undefined): CheckResultInfo {
  if (subset === undefined || report.data === null) return report
  return { ...report, data: { ...report.data, subset } }
}
