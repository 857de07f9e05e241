import type { Command } from 'commander'
import type { HoldRow, MatterRow } from '@cachecloud/dcstore'
import { print, printable, withStore, type GlobalOptions } from '../context.js'
import { optionalTime } from './time.js'

const iso = (ms: number | null): string => ms === null ? '-' : new Date(ms).toISOString()
const range = (from: number | null, to: number | null): string => from === null && to === null ? 'all time' : `${iso(from)} .. ${iso(to)}`
const matterLine = (m: MatterRow): string => printable(`${m.id}  ${m.name}  custodians ${m.custodians.join(',')}  ${range(m.fromMs, m.toMs)}  created ${iso(m.createdMs)} by ${m.createdBy}`)
export const holdLine = (h: HoldRow): string => printable(`${h.id}  ${h.matter}  ${h.custodian}  ${range(h.fromMs, h.toMs)}  ${h.glob ?? '*'}  placed ${iso(h.placedMs)} by ${h.placedBy}: ${h.reason}` +
  (h.releasedMs === null ? '' : `  RELEASED ${iso(h.releasedMs)} by ${h.releasedBy ?? '?'}: ${h.releaseReason ?? ''}`))

export function registerMatter (program: Command, globals: () => GlobalOptions): void {
  const m = program.command('matter').description('legal matters (cases): custodians, date range, audit trail')

  m.command('create <id>').description('open a matter; audited')
    .requiredOption('--name <name>', 'the case name').requiredOption('--custodian <user...>', 'users whose data the matter concerns')
    .option('--from <time>', 'start of the matter\'s date range').option('--to <time>', 'end of the matter\'s date range')
    .action(async (id: string, o: { name: string, custodian: string[], from?: string, to?: string }) => {
      const row = await withStore(globals(), async s => await s.discovery.matters.create({ id, name: o.name, custodians: o.custodian, ...optionalTime('from', o.from), ...optionalTime('to', o.to) }))
      print(globals(), row, () => [`created matter ${matterLine(row)}`])
    })

  m.command('ls').description('every matter')
    .action(async () => {
      const rows = await withStore(globals(), async s => await s.discovery.matters.list())
      print(globals(), rows, () => rows.map(matterLine))
    })

  m.command('show <id>').description('a matter, its holds and its audit trail (the log verified first)')
    .action(async (id: string) => {
      const view = await withStore(globals(), async s => await s.discovery.matters.show(id))
      print(globals(), view, () => [
        matterLine(view.matter), '# holds', ...view.holds.map(holdLine), '# audit trail',
        ...view.trail.map(e => printable(`${e.seq}  ${e.at}  ${e.kind}  ${e.action}  ${e.who.user}${e.operator === undefined ? '' : ` (${e.operator})`}  ${JSON.stringify(e.kind === 'intent' ? e.params : { ok: e.ok, ...e.result })}`))
      ])
    })

  const h = program.command('hold').description('legal holds: retention keeps what an active hold needs')

  h.command('place').description('hold a custodian\'s data (optionally a date range and a path glob) in a matter; audited with who and why')
    .requiredOption('--matter <id>').requiredOption('--custodian <user>').requiredOption('--reason <text>', 'why (recorded in the hold and the audit log)')
    .option('--from <time>', 'hold the data as it was from this time').option('--to <time>', 'until this time').option('--glob <pattern>', 'only snapshots holding a path that matches')
    .action(async (o: { matter: string, custodian: string, reason: string, from?: string, to?: string, glob?: string }) => {
      const row = await withStore(globals(), async s => await s.discovery.matters.placeHold({
        matter: o.matter, custodian: o.custodian, reason: o.reason, ...optionalTime('from', o.from), ...optionalTime('to', o.to), ...(o.glob === undefined ? {} : { glob: o.glob })
      }))
      print(globals(), row, () => [`placed ${holdLine(row)}`])
    })

  h.command('release <holdId>').description('release a hold; what only it kept is subject to retention again; audited with who and why')
    .requiredOption('--reason <text>', 'why (recorded in the hold and the audit log)')
    .action(async (id: string, o: { reason: string }) => {
      const row = await withStore(globals(), async s => await s.discovery.matters.releaseHold(id, o.reason))
      print(globals(), row, () => [`released ${holdLine(row)}`])
    })

  h.command('ls').description('holds (active ones unless --all)')
    .option('--matter <id>').option('--custodian <user>').option('--all', 'also released holds')
    .action(async (o: { matter?: string, custodian?: string, all?: boolean }) => {
      const rows = await withStore(
        globals(),
        async s => await s.discovery.matters.holds({
          ...(o.matter === undefined ? {} : { matter: o.matter }),
          ...(o.custodian === undefined ? {} : { custodian: o.custodian }),
          active: o.all !== true
        })
      )
      print(globals(), rows, () => rows.map(holdLine))
    })
}
