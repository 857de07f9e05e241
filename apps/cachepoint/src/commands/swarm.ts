import type { Command } from 'commander'
import type { RolloutInfo, SwarmPullInfo } from '@cachecloud/control'
import { parseVersionRef } from '@cachecloud/core'
import { daemonClient, output } from '../context.js'
import { count, formatBytes, formatDuration, formatRate, tableLines, truncate } from '../format.js'
import type { GlobalOptions } from '../paths.js'
import { UsageError } from '../errors.js'

/** `image publish`, `image subscribe`, `image unsubscribe`, `image plan`: swarm distribution. */
export function registerSwarmCommands (image: Command, globals: () => GlobalOptions): void {
  image.command('publish')
    .description('announce a version held here to every node subscribed to the image')
    .argument('<ref>', 'NAME@VERSION (imported or pulled complete on this node)')
    .action(async (ref: string) => {
      const g = globals()
      parseVersionRef(ref)
      const r = await (await daemonClient(g)).publish(ref)
      output(g, r, () => `published ${r.ref} on ${r.topic} (${count(r.recipients, 'subscribed peer')} reached directly)`)
    })

  image.command('subscribe')
    .description('follow an image: with --policy auto (default) every published version is verified and pulled on its own')
    .argument('<name>', 'image name')
    .option('--policy <policy>', 'auto (pull new versions) or manual (only record them)', 'auto')
    .action(async (name: string, opts: { policy: string }) => {
      const g = globals()
      if (opts.policy !== 'auto' && opts.policy !== 'manual') throw new UsageError('--policy must be auto or manual')
      const subs = await (await daemonClient(g)).subscribe(name, opts.policy)
      output(g, subs, () => `subscribed to ${name} (${opts.policy}); subscriptions: ${subs.map(s => `${s.name} (${s.policy})`).join(', ')}`)
    })

  image.command('unsubscribe')
    .description('stop following an image')
    .argument('<name>', 'image name')
    .action(async (name: string) => {
      const g = globals()
      const subs = await (await daemonClient(g)).unsubscribe(name)
      output(g, subs, () => `unsubscribed from ${name}; subscriptions: ${subs.length === 0 ? 'none' : subs.map(s => `${s.name} (${s.policy})`).join(', ')}`)
    })

  image.command('plan')
    .description('before anything moves: what a pull of this version would fetch, and how much of it this site already holds (LAN) vs must cross the WAN')
    .argument('<ref>', 'NAME@VERSION')
    .action(async (ref: string) => {
      const g = globals()
      parseVersionRef(ref)
      const p = await (await daemonClient(g)).plan(ref)
      output(g, p, () => [
        `${p.ref} (${p.cid}): ${count(p.blocks, 'block')}, ${formatBytes(p.bytes)}`,
        `  this node lacks ${count(p.missingBlocks, 'block')}, ${formatBytes(p.missingBytes)}`,
        `  from this site (LAN): ${count(p.lanBlocks, 'block')}, ${formatBytes(p.lanBytes)} on the link (${formatBytes(p.lanRawBytes)} of blocks)`,
        `  over the WAN:         ${count(p.wanBlocks, 'block')}, ${formatBytes(p.wanBytes)} on the link (${formatBytes(p.wanRawBytes)} of blocks)` + (p.unavailableBlocks > 0 ? ` (${p.unavailableBlocks} held by no connected peer yet)` : ''),
        `  peers asked: ${p.peers.length} (${p.peers.filter(x => x.lan).length} in this site, ${p.peers.filter(x => x.state !== 'none').length} holding the version)`
      ].join('\n'))
    })

  image.command('rollout')
    .description('where a version has got to, per site: nodes complete, pulling (percent), not started, offline (last seen), from the reports nodes send every minute to the publisher')
    .argument('<ref>', 'NAME@VERSION')
    .action(async (ref: string) => {
      const g = globals()
      parseVersionRef(ref)
      const [r] = await (await daemonClient(g)).rollout?.(ref) ?? []
      if (r === undefined) throw new UsageError('this daemon has no rollout view (an older version?)')
      output(g, r, () => rolloutLines(r).join('\n'))
    })
}

/** `image rollout`: one row per site, then the nodes still pulling or offline. */
export function rolloutLines (r: RolloutInfo): string[] {
  const t = r.totals
  const heard = t.complete + t.pulling + t.notStarted + t.offline
  if (heard === 0) return [`${r.ref}: no node has reported yet (nodes report every ${r.reportIntervalSeconds} s to the image's publisher; a node asked first collects from now on)`]
  const lines = [`${r.ref}: ${t.complete} of ${count(heard, 'node')} complete, ${t.pulling} pulling, ${t.notStarted} not started, ${t.offline} offline (reports every ${r.reportIntervalSeconds} s)`, '']
  lines.push(...tableLines(['SITE', 'COMPLETE', 'PULLING', 'NOT STARTED', 'OFFLINE'], r.sites.map(s => [s.site === '' ? '(no site)' : s.site, String(s.complete), String(s.pulling), String(s.notStarted), String(s.offline)])))
  const notable = r.sites.flatMap(s => s.nodes).filter(n => n.state === 'pulling' || n.state === 'offline')
  if (notable.length > 0) {
    lines.push('', ...tableLines(['PEER', 'SITE', 'STATE', 'LAST SEEN'], notable.map(n => [
      n.peer, n.site === '' ? '(no site)' : n.site, n.state === 'pulling' ? `pulling ${n.percent ?? 0}%` : `offline${n.percent === null ? '' : ` (had ${n.percent}%)`}`, n.lastSeen
    ])))
  }
  return lines
}

/** Characters of an error message shown under its row in `status` (the whole message: --json). */
export const ERROR_WIDTH = 100

/** Status lines of swarm pulls: blocks done/total, LAN vs WAN, rate, ETA, bytes per peer. */
export function swarmLines (site: string, pulls: SwarmPullInfo[]): string[] {
  if (pulls.length === 0) return []
  const [header, ...rows] = tableLines(['IMAGE', 'STATE', 'BLOCKS', 'LAN', 'WAN', 'RATE', 'ETA', 'PEERS'], pulls.map(p => [
    p.ref, p.state, `${p.blocksDone}/${p.blocksTotal}`, formatBytes(p.lanBytes), formatBytes(p.wanBytes),
    p.state === 'pulling' ? formatRate(p.rate) : '-', p.state === 'pulling' ? formatDuration(p.etaSeconds) : '-',
    p.peers.map(x => `${x.peer.slice(-8)}${x.lan ? '' : '(wan)'}=${formatBytes(x.bytes)}`).join(' ')
  ]))
  // an error goes on its own line under its row, cut to one line: a whole message would stretch the STATE column
  const lines = rows.flatMap((row, i) => pulls[i].error != null && pulls[i].state === 'failed' ? [row, `  error: ${truncate(pulls[i].error ?? '', ERROR_WIDTH)}`] : [row])
  return ['', `swarm pulls (site ${site === '' ? 'none' : site}):`, header, ...lines]
}
