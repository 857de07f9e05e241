import type { Command } from 'commander'
import { print, printable, withStore, type GlobalOptions } from '../context.js'

export function registerAdmin (program: Command, globals: () => GlobalOptions): void {
  program.command('enroll <peerId>')
    .description('allow a CachePoint (libp2p peer id) to replicate the given users')
    .requiredOption('--user <name...>', 'users the node may write')
    .action(async (peerId: string, o: { user: string[] }) => {
      await withStore(globals(), async store => { await store.enroll(peerId, o.user) }, { create: true })
      print(globals(), { peerId, users: o.user }, () => [`enrolled ${peerId} for ${o.user.join(', ')}`])
    })

  program.command('unenroll <peerId>')
    .description('remove a CachePoint (a lost or stolen machine): the store refuses its streams from now on, also while serving; audited')
    .action(async (peerId: string) => {
      const users = await withStore(globals(), async store => await store.unenroll(peerId))
      print(globals(), { peerId, users }, () => [`unenrolled ${peerId} (could write ${users.join(', ')})`])
    })

  program.command('enrollment')
    .description('list enrolled nodes and their users')
    .action(async () => {
      const table = await withStore(globals(), async store => store.enrollment())
      print(globals(), table, () => Object.entries(table.nodes).map(([peer, e]) => printable(`${peer}  ${e.users.join(',')}  since ${e.enrolledAt}`)))
    })

  program.command('retention')
    .description('remove snapshots committed (received by the store) before a time, and the blocks nothing newer needs (dry run unless --apply); audited')
    .requiredOption('--before <time>', 'ISO-8601 cut-off, e.g. seven years ago')
    .option('--apply', 'really delete')
    .action(async (o: { before: string, apply?: boolean }) => {
      if (Number.isNaN(Date.parse(o.before))) throw new Error(`not a time: ${JSON.stringify(o.before)}`)
      const r = await withStore(globals(), async store => await store.retention(o.before, o.apply === true))
      print(globals(), r, () => [
        `${r.applied ? 'removed' : 'would remove'} ${r.snapshots.length} snapshots committed before ${new Date(o.before).toISOString()}${r.applied ? `, ${r.removedBlocks} blocks (${r.freedBytes} bytes)` : ''}`,
        ...(r.held.length === 0 ? [] : [`kept ${r.held.length} snapshots that legal holds need:`]),
        ...r.held.map(h => `  ${h.snapshot.user}  ${new Date(h.snapshot.timeMs).toISOString()}  ${h.snapshot.cid}  held by ${h.holds.join(', ')}`)
      ])
    })
}
