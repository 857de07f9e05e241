import type { Command } from 'commander'
import type { PruneDecision } from '@cachecloud/control'
import { parseVersionRef } from '@cachecloud/core'
import { daemonClient, output } from '../context.js'
import { count, formatBytes } from '../format.js'
import type { GlobalOptions } from '../paths.js'

function gcLine (r: { gc: { removed: number, freedBytes: number, kept: number } | null, gcDeferred?: string }): string {
  if (r.gc !== null) return `  gc: freed ${count(r.gc.removed, 'block')} (${formatBytes(r.gc.freedBytes)}), kept ${r.gc.kept} (shared with other versions or personal data)`
  return r.gcDeferred === undefined ? '' : `  gc deferred: ${r.gcDeferred}`
}

function decisions (list: PruneDecision[], verb: string): string[] {
  return list.map(d => `  ${verb} ${d.ref}${d.reasons.length > 0 ? ` (${d.reasons.join(', ')})` : ''}`)
}

/** `image rm` and `image prune`: removing versions and the retention policy of the config. */
export function registerImageLifecycle (image: Command, globals: () => GlobalOptions): void {
  image.command('rm')
    .description('remove a version, then free the blocks no other version uses; refused (exit 11) while it is served over NBD, pulled or exported, or is the only complete version of a subscribed image')
    .argument('<ref>', 'NAME@VERSION')
    .option('--force', 'remove even the only complete version of a subscribed image (never one served or being pulled)')
    .action(async (ref: string, opts: { force?: boolean }) => {
      const g = globals()
      parseVersionRef(ref)
      const r = await (await daemonClient(g)).removeVersion({ ref, force: opts.force === true })
      output(g, r, () => [`removed ${r.ref} (${r.cid})`, gcLine(r)].filter(l => l !== '').join('\n'))
    })

  image.command('prune')
    .description('apply the retention policies of the config ("retention": keep the last N, keep newer than a date or duration); versions served, pulled or not complete are kept')
    .argument('[name]', 'only this image (default: every image with a policy)')
    .option('--dry-run', 'say what would be removed, remove nothing')
    .action(async (name: string | undefined, opts: { dryRun?: boolean }) => {
      const g = globals()
      const r = await (await daemonClient(g)).prune({ dryRun: opts.dryRun === true, ...(name === undefined ? {} : { name }) })
      output(g, r, () => [
        r.removed.length === 0 ? 'nothing to remove' : `${r.dryRun ? 'would remove' : 'removed'} ${count(r.removed.length, 'version')}`,
        ...decisions(r.removed, r.dryRun ? 'would remove' : 'removed'),
        ...decisions(r.kept, 'keep'),
        gcLine(r)
      ].filter(l => l !== '').join('\n'))
    })
}
