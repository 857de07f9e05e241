import type { Command } from 'commander'
import { daemonClient, output } from '../context.js'
import { formatBytes, formatDuration, formatRate, table } from '../format.js'
import type { GlobalOptions } from '../paths.js'
import { exportLines } from './serve.js'
import { swarmLines } from './swarm.js'

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
          `store:          ${s.store.blocks} blocks, ${formatBytes(s.store.physicalBytes)} on disk for ${formatBytes(s.store.logicalBytes)} of images`,
          `versions:       ${s.versions.length} (${s.versions.filter(v => v.state === 'pulling').length} pulling)`,
          `connections:    ${s.connections}`
        ]
        if (s.jobs.length > 0) {
          lines.push('', table(['JOB', 'IMAGE', 'STATE', 'PROGRESS', 'RATE', 'ETA'], s.jobs.map(j => [
            j.kind, j.ref, j.state === 'failed' ? `failed: ${j.error?.message ?? ''}` : j.state,
            j.total > 0 ? `${Math.floor(100 * j.done / j.total)}% of ${formatBytes(j.total)}` : '-',
            j.state === 'running' ? formatRate(j.rate) : '-',
            j.state === 'running' ? formatDuration(j.etaSeconds) : '-'
          ])))
        }
        lines.push(...swarmLines(s.swarm.site, s.swarm.pulls))
        for (const p of s.personal) {
          lines.push(`personal ${p.user}: ${p.snapshots} snapshots, last ${p.lastSnapshot ?? 'never'}; waiting for the store: ${p.pendingSnapshots} (${formatBytes(p.pendingBytes)})` +
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
        : table(['PEER', 'CONNECTED', 'CONFIGURED', 'ADDRESSES'], peers.map(p => [p.peerId, p.connected ? 'yes' : 'no', p.configured ? 'yes' : 'no', p.addresses.join(' ')])))
    })
}
