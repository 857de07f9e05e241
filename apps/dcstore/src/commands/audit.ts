import { stat } from 'node:fs/promises'
import { InvalidArgumentError, type Command } from 'commander'
import { formatAuditKey, InvalidAuditKeyError, writeAuditKey, type AuditHead } from '@cachecloud/dcstore'
import { dataDir, print, printable, withStore, type GlobalOptions } from '../context.js'
import { writeFileAtomic } from '../fs.js'

/** `SEQ:HASH` (as `audit head` prints it) to an anchor. */
function parseAnchor (text: string): AuditHead {
  const m = /^(\d{1,15}):([0-9a-f]{64})$/.exec(text.trim())
  if (m === null) throw new InvalidArgumentError('not SEQ:HASH as `dcstore audit head` prints it')
  return { seq: Number(m[1]), hash: m[2] }
}

export function registerAudit (program: Command, globals: () => GlobalOptions): void {
  const audit = program.command('audit').description('the signed, hash-chained audit log of enrollment, discovery and retention')

  audit.command('keygen')
    .description('create the audit signing key (ed25519); prints its public key. Keep the file outside the data directory (refused inside it)')
    .requiredOption('--out <file>', 'the key file to create (mode 0600)')
    .option('--public-out <file>', 'also write a public-only copy, enough for `audit verify` by an auditor')
    .action(async (o: { out: string, publicOut?: string }) => {
      if (await stat(o.out).catch(() => undefined) !== undefined) throw new InvalidAuditKeyError(`${o.out} exists: refusing to replace an audit key (the log it signed would no longer verify)`)
      const key = await writeAuditKey(o.out, dataDir(globals()))
      if (o.publicOut !== undefined) await writeFileAtomic(o.publicOut, formatAuditKey(key, { publicOnly: true }))
      process.stdout.write(key.id + '\n')
    })

  audit.command('verify')
    .description('check every entry\'s chain link, hash and signature by the audit key, and the signed head; list intents without an outcome; exit 6 on damage')
    .option('--anchor <seq:hash>', 'a head recorded outside this machine (`audit head`): also check the log still holds that entry', parseAnchor)
    .action(async (o: { anchor?: AuditHead }) => {
      const anchor = o.anchor
      const r = await withStore(globals(), async store => await store.verifyAudit(anchor === undefined ? {} : { anchor }))
      print(globals(), r, () => [
        `audit log intact: ${r.entries} ${r.entries === 1 ? 'entry' : 'entries'} signed by ${r.key}; head ${r.head.seq}:${r.head.hash}${anchor === undefined ? '' : ` (holds anchored entry ${anchor.seq})`}`,
        ...r.open.map(e => printable(`open intent ${e.seq}: ${e.action} ${JSON.stringify(e.params)} at ${e.at} by ${e.who.user} (uid ${e.who.uid}, pid ${e.who.pid} on ${e.who.host})${e.operator === undefined ? '' : ` as ${e.operator}`}: no outcome (running, or it crashed)`))
      ])
    })

  audit.command('head')
    .description('verify, then print the head as SEQ:HASH: send it off the machine (syslog, a write-once medium) to anchor the log')
    .action(async () => {
      const r = await withStore(globals(), async store => await store.verifyAudit())
      print(globals(), { seq: r.head.seq, hash: r.head.hash, key: r.key }, () => [`${r.head.seq}:${r.head.hash}`])
    })
}
