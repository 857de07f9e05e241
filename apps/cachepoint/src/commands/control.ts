import type { Command } from 'commander'
import type { SyncResultInfo } from '@cachecloud/control'
import { daemonClient, output } from '../context.js'
import type { GlobalOptions } from '../paths.js'

function describeSync (verb: string, r: SyncResultInfo): string {
  const lines = [r.started.length === 0 ? `${verb}: no interrupted pull to continue` : `${verb}: pulling ${r.started.join(', ')} (follow with: cachepoint status)`]
  if (r.running.length > 0) lines.push(`  already pulling: ${r.running.join(', ')}`)
  for (const s of r.skipped) lines.push(`  skipped ${s.ref}: ${s.reason}`)
  return lines.join('\n')
}

/** pause, resume, sync: one API call each; the daemon does the work. */
export function registerControl (program: Command, globals: () => GlobalOptions): void {
  program.command('pause')
    .description('stop every transfer now (pulls keep what they stored) and start none until resume; survives a restart')
    .action(async () => {
      const g = globals()
      const r = await (await daemonClient(g)).pause()
      output(g, r, () => r.stopped.length === 0 ? 'paused (no pull was running)' : `paused; stopped ${r.stopped.join(', ')} (resume continues them)`)
    })

  program.command('resume')
    .description('lift a pause and continue every interrupted or paused pull from the blocks already stored')
    .action(async () => {
      const g = globals()
      const r = await (await daemonClient(g)).resume()
      output(g, r, () => describeSync('resumed', r))
    })

  program.command('sync')
    .description('catch up now: continue every version still being pulled, from the configured peers')
    .action(async () => {
      const g = globals()
      const r = await (await daemonClient(g)).sync()
      output(g, r, () => describeSync('sync', r))
    })
}
