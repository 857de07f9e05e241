import type { Command } from 'commander'
import { daemonClient, output } from '../context.js'
import { count, formatBytes, formatDuration, formatRate, table, tableLines, truncate } from '../format.js'
import type { GlobalOptions } from '../paths.js'
import { exportLines } from './serve.js'
import { ERROR_WIDTH, swarmLines } from './swarm.js'

/** Finished jobs listed by the text status, newest last (--json lists every job the daemon keeps). */
const FINISHED_JOBS_SHOWN = 5

export function registerStatus (program: Command, globals: () => GlobalOptions): void {
  program.command('status')
    .description('what this CachePoint holds and is doing')
    .action(async () => {
      const g = globals()
      const client = await daemonClient(g)
      const s = await client.status()
      output(g, s, () => {
        const lines = [
          `peer id:        ${s.peerId}`,
          `addresses:      ${s.addresses.join(' ')}`,
          `publisher key:  ${s.publisherKey}`,
          `data dir:       ${s.dataDir}`,
          `store:          ${count(s.store.blocks, 'block')}, ${formatBytes(s.store.physicalBytes)} of blocks in ${formatBytes(s.store.storedBytes)} on disk for ${formatBytes(s.store.logicalBytes)} of images`,
          ...(s.store.recompression.pendingVersions > 0
            ? [`recompressing:  ${count(s.store.recompression.pendingVersions, 'version')} imported here, to zstd level ${s.store.recompression.level}`]
            : []),
          `versions:       ${s.versions.length} (${s.versions.filter(v => v.state === 'pulling').length} pulling)`,
          `connections:    ${s.connections}`,
          `transfers:      ${s.paused ? 'PAUSED: no pull runs until cachepoint resume' : 'running'}`
        ]
        const finished = s.jobs.filter(j => j.state === 'done' || j.state === 'failed')
        const shown = s.jobs.filter(j => !finished.includes(j) || finished.indexOf(j) >= finished.length - FINISHED_JOBS_SHOWN)
        if (shown.length > 0) {
          const [header, ...rows] = tableLines(['JOB', 'IMAGE', 'STATE', 'PROGRESS', 'RATE', 'ETA'], shown.map(j => [
            j.kind, j.ref, j.state,
            j.total > 0 ? `${Math.floor(100 * j.done / j.total)}% of ${j.unit === 'blocks' ? count(j.total, 'block') : formatBytes(j.total)}` : '-',
            j.state === 'running' ? (j.unit === 'blocks' ? `${Math.round(j.rate)} blocks/s` : formatRate(j.rate)) : '-',
            j.state === 'running' ? formatDuration(j.etaSeconds) : '-'
          ]))
          lines.push('', header, ...rows.flatMap((row, i) => {
            const error = shown[i].error
            return error === undefined ? [row] : [row, `  error: ${truncate(`${error.message} (${error.code})`, ERROR_WIDTH)}`]
          }))
          const hidden = s.jobs.length - shown.length
          if (hidden > 0) lines.push(`  (${count(hidden, 'older finished job')} not shown: cachepoint --json status)`)
        }
        lines.push(...swarmLines(s.swarm.site, s.swarm.pulls))
        for (const p of s.personal) {
          lines.push(`personal ${p.user}: ${count(p.snapshots, 'snapshot')}, last ${p.lastSnapshot ?? 'never'}; waiting for the store: ${p.pendingSnapshots} (${formatBytes(p.pendingBytes)})` +
            (p.lastError === null ? '' : `; last error: ${p.lastError}`))
        }
        lines.push(...exportLines(s.exports))
        return lines.join('\n')
      })
    })

  program.command('peers')
    .description('configured and connected peers')
    .action(async () => {
      const g = globals()
      const peers = await (await daemonClient(g)).peers()
      output(g, peers, () => peers.length === 0
        ? 'no peers configured or connected'
        : table(['PEER', 'ROLE', 'CONNECTED', 'CONFIGURED', 'ADDRESSES'], peers.map(p => [p.peerId, p.role, p.connected ? 'yes' : 'no', p.configured ? 'yes' : 'no', p.addresses.join(' ')])))
    })
}
