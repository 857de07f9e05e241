import { InvalidArgumentError, type Command } from 'commander'
import { formatBytes, formatRate } from '@cachecloud/core/units'
import type { CheckProgress, CheckReport, CheckSubset, RepairReport } from '@cachecloud/dcstore'
import { EXIT } from '../exit-codes.js'
import { print, printable, withStore, type GlobalOptions } from '../context.js'

/** `10%` or `2/5` (the second of five parts, by pack). */
function parseSubset (text: string): CheckSubset {
  const pct = /^(\d{1,3}(?:\.\d+)?)%$/.exec(text)
  if (pct !== null && Number(pct[1]) <= 100) return { percent: Number(pct[1]) }
  const part = /^(\d{1,6})\/(\d{1,6})$/.exec(text)
  if (part !== null && Number(part[1]) >= 1 && Number(part[1]) <= Number(part[2])) return { n: Number(part[1]), m: Number(part[2]) }
  throw new InvalidArgumentError('give N% (0-100) or n/m with 1 <= n <= m')
}

const duration = (s: number): string => !Number.isFinite(s) ? '?' : s >= 3600 ? `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m` : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s) % 60).padStart(2, '0')}s` : `${Math.round(s)}s`

/** Progress on stderr, only on a terminal: one line rewritten at most 4 times a second, cleared at the end. */
function progressLine (): { onProgress?: (e: CheckProgress) => void, done: () => void } {
  if (process.stderr.isTTY !== true) return { done: () => {} }
  const t0 = Date.now()
  let last = 0
  let shown = false
  return {
    onProgress: e => {
      const now = Date.now()
      if (now - last < 250 && e.doneBytes < e.totalBytes) return
      last = now
      const s = (now - t0) / 1000
      const rate = s > 0 ? e.doneBytes / s : 0
      const pct = e.totalBytes > 0 ? Math.floor(100 * e.doneBytes / e.totalBytes) : 100
      const eta = rate > 0 ? duration((e.totalBytes - e.doneBytes) / rate) : '?'
      process.stderr.write(`\r\x1b[Kread ${formatBytes(e.doneBytes)} of ${formatBytes(e.totalBytes)} (${pct}%), ${e.doneBlocks} of ${e.totalBlocks} blocks, ${formatRate(rate)}, ETA ${eta}`)
      shown = true
    },
    done: () => { if (shown) process.stderr.write('\r\x1b[K') }
  }
}

const plural = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`

function lines (r: CheckReport, hint = true): string[] {
  const out = [
    `checked ${plural(r.users, 'user')}, ${plural(r.snapshots, 'snapshot')}, ${plural(r.referencedBlocks, 'referenced block')}` +
      (r.readData ? `; read and verified ${plural(r.readBlocks, 'block')} (${formatBytes(r.readBytes)}) in ${r.seconds.toFixed(1)} s, ${formatRate(r.seconds > 0 ? r.readBytes / r.seconds : 0)}` : ' (not read: --read-data verifies every block)')
  ]
  for (const d of r.damage) out.push(printable(`damaged: user ${d.user}: ${d.message}${d.cids.length > 0 ? ` (${d.cids.slice(0, 3).join(', ')}${d.blocks > 3 ? ', ...' : ''})` : ''}`))
  for (const a of r.affected) {
    const waiting = a.waiting === undefined ? '' : `; waiting since ${a.waiting.since} for node ${a.node} to replicate${a.waiting.unavailable > 0 ? ` (it answered that it no longer has ${plural(a.waiting.unavailable, 'block')})` : ''}`
    out.push(printable(`affected: user ${a.user} snapshot ${a.snapshot} of node ${a.node} at ${a.time}: ${plural(a.badBlocks, 'bad block reference')}${waiting}`))
  }
  // blocks missing only from snapshots that wait for their node: nothing a repair here can add
  const waits = (user: string): boolean => r.affected.filter(a => a.user === user).every(a => a.waiting !== undefined)
  if (hint && r.damage.some(d => d.kind !== 'awaiting-replication' && !(d.kind === 'block-missing' && waits(d.user)))) out.push('repair with: dcstore check --repair (the store stopped)')
  out.push(r.ok ? 'no damage found' : `${plural(r.damage.length, 'damage')} found, ${plural(r.affected.length, 'snapshot')} affected`)
  return out
}

function repairLines (r: RepairReport): string[] {
  const out = lines(r.before, false).slice(0, -1).map(l => `before: ${l}`)
  out.push(`repair: dropped ${r.droppedBlocks} block entr${r.droppedBlocks === 1 ? 'y' : 'ies'} that were lost or failed verification; block stores of ${r.repairedUsers.length === 0 ? 'no user' : `user${r.repairedUsers.length === 1 ? '' : 's'} ${r.repairedUsers.join(', ')}`} recovered and their index logs rewritten in ${r.seconds.toFixed(1)} s`)
  if (r.skippedUsers.length > 0) out.push(printable(`repair: not opened (no block store, or a format this version does not read): ${r.skippedUsers.join(', ')}`))
  const nodes = new Map<string, { user: string, node: string, n: number }>()
  for (const p of r.pending) { const k = `${p.user}\0${p.node}`; const e = nodes.get(k) ?? { user: p.user, node: p.node, n: 0 }; e.n++; nodes.set(k, e) }
  for (const e of nodes.values()) out.push(printable(`waiting: user ${e.user}: ${plural(e.n, 'snapshot')} of node ${e.node} lack blocks until that node replicates again (its next replication re-sends them)`))
  out.push(...lines(r.after, false).slice(0, -1).map(l => `after: ${l}`))
  out.push(r.ok ? 'everything repaired' : r.pending.length > 0 ? `repaired here; ${plural(r.pending.length, 'snapshot')} wait for replication (exit 6 until then)` : 'damage remains (exit 6)')
  return out
}

export function registerCheck (program: Command, globals: () => GlobalOptions): void {
  program.command('check')
    .description('check the store (changing nothing, unless --repair): every user\'s block store files, every snapshot\'s blocks present; with --read-data every block read and verified against its CID. ' +
      'Exit 6 when anything is damaged, or a repaired snapshot still waits for its node to replicate (the user and node are named). Needs the store stopped (it holds the data directory lock)')
    .option('--read-data', 'read every block and verify it (SHA-256 of the sealed bytes against its CID)')
    .option('--read-data-subset <N%|n/m>', 'read only a part: N% of each store\'s packs at random, or the n-th of m parts (by pack id)', parseSubset)
    .option('--repair', 'after the check, drop the entries of every lost or corrupt block (index logs rewritten crash-safely) and record the snapshots that lack blocks: ' +
      'the node that took each re-sends them at its next replication (CachePoints of this version; older ones re-send only blocks their new snapshots share). ' +
      'Reads and verifies every block first (as --read-data; --read-data-subset narrows it). Local block directory only; needs the store stopped')
    .addHelpText('after', [
      '',
      'Repair loses nothing: a snapshot stays in the index while it waits for blocks,',
      'and blocks a truncated index log no longer names are taken back from the packs',
      'after their SHA-256 is checked. It needs the CachePoints that replicate to the',
      'store: a CachePoint replicates when its folder has changed, and until the named',
      'node has, `dcstore check` exits 6 naming it. Waiting snapshots are listed in',
      'repair-pending.json in the data directory (docs/formats/dcstore.md#repair).'
    ].join('\n'))
    .action(async (o: { readData?: boolean, readDataSubset?: CheckSubset, repair?: boolean }) => {
      const p = progressLine()
      const options = {
        // a repair reads first: nothing it keeps is taken as present unverified (--read-data-subset narrows it)
        readData: o.readData === true || o.readDataSubset !== undefined || o.repair === true,
        ...(o.readDataSubset === undefined ? {} : { subset: o.readDataSubset }),
        ...(p.onProgress === undefined ? {} : { onProgress: p.onProgress })
      }
      if (o.repair === true) {
        let r: RepairReport
        try { r = await withStore(globals(), async store => await store.repair(options)) } finally { p.done() }
        print(globals(), r, () => repairLines(r))
        if (!r.ok) process.exitCode = EXIT.integrity
        return
      }
      let r: CheckReport
      try { r = await withStore(globals(), async store => await store.check(options)) } finally { p.done() }
      print(globals(), r, () => lines(r))
      if (!r.ok) process.exitCode = EXIT.integrity
    })
}
