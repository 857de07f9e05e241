import type { Command } from 'commander'
import { print, withStore, type GlobalOptions } from '../context.js'

export function registerAdmin (program: Command, globals: () => GlobalOptions): void {
  program.command('enroll <peerId>')
    .description('allow a CachePoint (libp2p peer id) to replicate the given users')
    .requiredOption('--user <name...>', 'users the node may write')
    .action(async (peerId: string, o: { user: string[] }) => {
      await withStore(globals(), async store => { await store.enroll(peerId, o.user) })
      print(globals(), { peerId, users: o.user }, () => [`enrolled ${peerId} for ${o.user.join(', ')}`])
    })

  program.command('enrollment')
    .description('list enrolled nodes and their users')
    .action(async () => {
      const table = await withStore(globals(), async store => store.enrollment())
      print(globals(), table, () => Object.entries(table.nodes).map(([peer, e]) => `${peer}  ${e.users.join(',')}  since ${e.enrolledAt}`))
    })

  const audit = program.command('audit').description('the hash-chained audit log of discovery queries and exports')
  audit.command('verify')
    .description('recompute the chain; exit 6 if any entry was edited, inserted, reordered or removed')
    .action(async () => {
      const r = await withStore(globals(), async store => await store.verifyAudit())
      print(globals(), r, () => [`audit log intact: ${r.entries} entries`])
    })
}
