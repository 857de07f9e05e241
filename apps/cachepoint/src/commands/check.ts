import type { Command } from 'commander'
import type { CheckResultInfo } from '@cachecloud/control'
import { daemonClient, output } from '../context.js'
import { DaemonGoneError, isConnectionLost } from '../errors.js'
import { EXIT } from '../exit-codes.js'
import { count, formatBytes, formatRate } from '../format.js'
import { collect } from '../options.js'
import type { GlobalOptions } from '../paths.js'
import { createProgressRenderer } from '../progress.js'

function summary (r: CheckResultInfo): string {
  const lines = [
    `catalog: ${count(r.catalog.versions, 'version')}${r.catalog.damagedRefs.length > 0 ? `, ${r.catalog.damagedRefs.length} unreadable` : ''}`,
    `store: ${count(r.store.packs, 'pack')}, ${count(r.store.blocks, 'block')}${r.store.missingPacks.length > 0 ? `, ${r.store.missingPacks.length} packs missing` : ''}, index log ${r.store.indexLog === null ? 'ok' : 'damaged'}`
  ]
  if (r.data !== null) {
    const rate = r.data.storedBytes / Math.max(r.data.durationMs / 1000, 0.001)
    lines.push(`data${r.data.subset === undefined ? '' : ` (subset ${r.data.subset})`}: read ${count(r.data.blocks + r.data.corruptBlocks, 'block')}, ${formatBytes(r.data.storedBytes)} on disk (${formatBytes(r.data.rawBytes)} decoded) in ${(r.data.durationMs / 1000).toFixed(1)}s, ${formatRate(rate)}; ${r.data.corruptBlocks} corrupt`)
  }
  for (const v of r.versions) {
    const state = v.damaged ? 'DAMAGED' : v.state === 'pulling' ? `incomplete (${v.missingBlocks} blocks not arrived)` : 'ok'
    lines.push(`  ${v.ref}: ${state}${v.manifest !== null ? `; manifest: ${v.manifest}` : ''}${v.damagedBlocks > 0 ? `; ${v.damagedBlocks} damaged blocks` : ''}${v.damaged && v.state === 'complete' && v.missingBlocks > 0 ? `; ${v.missingBlocks} missing blocks` : ''}`)
  }
  for (const p of r.problems) lines.push(`problem: ${p}`)
  if (r.unreferencedDamagedBlocks > 0) lines.push(`${count(r.unreferencedDamagedBlocks, 'damaged block')} no version uses`)
  if (r.repair !== undefined) {
    lines.push(`repair: dropped ${count(r.repair.droppedBlocks, 'block entry', 'block entries')}, index log rewritten; repaired ${r.repair.repaired.join(', ') || 'nothing'}`)
    for (const f of r.repair.failed) lines.push(`  not repaired ${f.ref}: ${f.message}`)
    for (const p of r.repair.remaining) lines.push(`  still: ${p}`)
  }
  lines.push(r.ok ? (r.repair === undefined ? 'no damage found' : 'everything repaired') : r.repair === undefined ? 'damage found (exit 6); repair with: cachepoint check --repair' : 'damage remains (exit 6)')
  return lines.join('\n')
}

/** `cachepoint check`: the integrity check of this node's images and block store, in the manner of restic check. */
export function registerCheck (program: Command, globals: () => GlobalOptions): void {
  program.command('check')
    .description('check the catalog, every manifest (signature, structure), every referenced block present; exit 6 when anything is damaged')
    .option('--read-data', 'also read every block and hash it against its CID (progress with rate and ETA)')
    .option('--read-data-subset <subset>', 'read only a part: N/T (the N-th of T groups; T runs cover everything) or P% (random)')
    .option('--repair', 're-fetch damaged or missing blocks from peers: drop them, mark the versions incomplete, pull them again')
    .option('--from <multiaddr>', 'peer to repair from (repeatable; default: peers in the config, else the swarm)', collect)
    .action(async (opts: { readData?: boolean, readDataSubset?: string, repair?: boolean, from?: string[] }) => {
      const g = globals()
      const client = await daemonClient(g)
      const renderer = createProgressRenderer('check', { json: g.json === true })
      let result: CheckResultInfo
      try {
        result = await client.check(
          { readData: opts.readData === true, readDataSubset: opts.readDataSubset, repair: opts.repair === true, from: opts.from },
          (event) => { renderer.update(event) }
        )
      } catch (err) {
        if (isConnectionLost(err)) throw new DaemonGoneError('the CachePoint daemon went away during check (crashed or stopped): see its log', { cause: err })
        throw err
      } finally {
        renderer.stop()
      }
      output(g, result, () => summary(result))
      if (!result.ok) process.exitCode = EXIT.integrity
    })
}
