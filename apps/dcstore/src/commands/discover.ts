import { execFile } from 'node:child_process'
import { rm } from 'node:fs/promises'
import { promisify } from 'node:util'
import type { Command } from 'commander'
import { InvalidTextSearchError, NoSnapshotError, type FileRow, type InMatter, type ReviewExportManifest, type TextSearchQuery } from '@cachecloud/dcstore'
import { optionalTime } from './time.js'
import { print, printable, withStore, type GlobalOptions } from '../context.js'

const run$ = promisify(execFile)
const fileLine = (f: FileRow): string => `${f.sha256}  ${String(f.size).padStart(10)}  ${new Date(f.mtimeMs).toISOString()}  ${f.node.slice(-8)}  ${printable(f.path)}`
/**
 * A text query of a user the store has no snapshot of says so (not-found exit
 * code) instead of printing nothing; with --json the empty answer is printed.
 */
const noSnapshots = (g: GlobalOptions, user: string, at?: string): void => {
  if (g.json === true) return
  throw new NoSnapshotError(at === undefined ? `no snapshots for user ${user}` : `no snapshots for user ${user} at or before ${at}`)
}
const time = (t: string): string => {
  const ms = Date.parse(t)
  if (Number.isNaN(ms)) throw new Error(`not a time: ${JSON.stringify(t)} (use ISO-8601, e.g. 2026-11-20T12:00:00Z)`)
  return new Date(ms).toISOString()
}

interface SearchOptions {
  user?: string, glob?: string, sha256?: string, matter?: string, text?: string, from?: string, to?: string, custodian?: string[], type?: string[]
  minSize?: string, maxSize?: string, mtimeFrom?: string, mtimeTo?: string, limit?: string
}

const count = (name: string, v: string | undefined): Record<string, number> => {
  if (v === undefined) return {}
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidTextSearchError(`--${name}: not a whole number: ${JSON.stringify(v)}`)
  return { [name.replace(/-(\w)/g, (_m, c: string) => c.toUpperCase())]: n }
}

/** The text search of the options (without the matter). */
function searchQueryOf (o: SearchOptions): Omit<TextSearchQuery, 'matter'> {
  return {
    text: o.text!, ...optionalTime('from', o.from), ...optionalTime('to', o.to), ...optionalTime('mtimeFrom', o.mtimeFrom), ...optionalTime('mtimeTo', o.mtimeTo),
    ...(o.custodian === undefined ? {} : { custodians: o.custodian }), ...(o.type === undefined ? {} : { types: o.type.map(t => t.replace(/^\./, '').toLowerCase()) }),
    ...(o.glob === undefined ? {} : { glob: o.glob }), ...count('min-size', o.minSize), ...count('max-size', o.maxSize), ...count('limit', o.limit)
  }
}

async function textSearch (g: GlobalOptions, o: SearchOptions): Promise<void> {
  if (o.matter === undefined) throw new InvalidTextSearchError('a text search runs in a matter: give --matter ID')
  if (o.user !== undefined || o.sha256 !== undefined) throw new InvalidTextSearchError('with --text, name custodians with --custodian (--user and --sha256 are for the path and hash search)')
  const r = await withStore(g, async s => await s.discovery.text.search({ matter: o.matter!, ...searchQueryOf(o) }))
  const c = r.coverage
  print(g, r, () => [
    ...r.hits.map(h => `${h.user}  ${printable(h.path)}  ${new Date(h.snapshotMs).toISOString()}  ${h.sha256}  ${printable(h.snippet.replace(/\s+/g, ' '))}`),
    `# ${r.hits.length} hits in ${r.snapshots} snapshots of ${r.custodians.join(', ')}; ${c.indexed} of ${c.versions} file versions in scope indexed` +
      (c.complete ? ': the search covered all of them' : `; ${c.notIndexed} not (${Object.entries(c.byStatus).filter(([k]) => k !== 'indexed').map(([k, v]) => `${k} ${v}`).join(', ')}):`),
    ...c.listed.map(l => `#   ${l.status}  ${l.user}  ${printable(l.path)}  ${new Date(l.snapshotMs).toISOString()}  ${l.sha256}${l.reason === null ? '' : `  ${printable(l.reason)}`}`),
    ...(c.listed.length < c.notIndexed ? [`#   ... and ${c.notIndexed - c.listed.length} more (--json lists the first ${c.listed.length} too)`] : [])
  ])
}

async function reviewExport (g: GlobalOptions, o: SearchOptions & { at?: string, to?: string, tar?: string, toTime?: string }): Promise<void> {
  if (o.matter === undefined) throw new InvalidTextSearchError('give --user U (one user\'s export) or --matter ID (a review export of the matter)')
  const folder = o.to ?? `${o.tar!}.export-${process.pid}`
  let m: ReviewExportManifest
  try {
    const search = o.text === undefined ? undefined : (({ custodians: _c, ...q }) => q)(searchQueryOf({ ...o, to: o.toTime }))
    m = await withStore(g, async s => await s.discovery.review.export({
      matter: o.matter!, to: folder, ...(o.custodian === undefined ? {} : { custodians: o.custodian }), ...optionalTime('at', o.at), ...(search === undefined ? {} : { search })
    }))
    if (o.tar !== undefined) await run$('tar', ['--sort=name', '--owner=0', '--group=0', '-cf', o.tar, '-C', folder, '.'])
  } finally {
    if (o.tar !== undefined) await rm(folder, { recursive: true, force: true })
  }
  print(g, m, () => [
    `exported ${m.documents.length} documents (${m.documents.reduce((a, d) => a + d.versions.length, 0)} file versions of ${m.selection.custodians.join(', ')}) of matter ${m.matter} to ${o.tar ?? folder}`,
    `  load file LOADFILE.dat, chain of custody CUSTODY.txt (sha256 ${m.files.find(f => f.path === 'CUSTODY.txt')?.sha256 ?? '?'})`
  ])
}

const MATTER = '--matter <id>'
const MATTER_HELP = 'run in a matter: only its custodians, recorded against it in the audit log'
const inMatter = (o: { matter?: string }): InMatter => o.matter === undefined ? {} : { matter: o.matter }

export function registerDiscover (program: Command, globals: () => GlobalOptions): void {
  const d = program.command('discover').description('legal discovery over every replicated snapshot (each query is audited)')

  d.command('tree').description('what a user had at a time: every file with its SHA-256')
    .requiredOption('--user <name>').option('--at <time>', 'ISO-8601 time (default now)', new Date().toISOString()).option(MATTER, MATTER_HELP)
    .action(async (o: { user: string, at: string, matter?: string }) => {
      const tree = await withStore(globals(), async s => await s.discovery.treeAt(o.user, time(o.at), inMatter(o)))
      if (tree.snapshots.length === 0) noSnapshots(globals(), o.user, time(o.at))
      print(globals(), tree, () => [
        ...tree.snapshots.map(s => `# node ${s.node} snapshot ${s.cid} at ${new Date(s.timeMs).toISOString()}`),
        ...tree.files.map(fileLine)
      ])
    })

  d.command('diff').description('what changed between two times')
    .requiredOption('--user <name>').requiredOption('--from <time>').requiredOption('--to <time>').option(MATTER, MATTER_HELP)
    .action(async (o: { user: string, from: string, to: string, matter?: string }) => {
      const diff = await withStore(globals(), async s => await s.discovery.diff(o.user, time(o.from), time(o.to), inMatter(o)))
      print(globals(), diff, () => [
        ...diff.added.map(f => `A ${printable(f.path)}`), ...diff.changed.map(c => `M ${printable(c.after.path)}`), ...diff.deleted.map(f => `D ${printable(f.path)}`)
      ])
    })

  d.command('search').description('file versions by path glob and/or content hash, across users; with --text, by the words in them (in a matter, with what was not indexed)')
    .option('--user <name>').option('--glob <pattern>').option('--sha256 <hex>').option(MATTER, MATTER_HELP + ' (without --user: across its custodians)')
    .option('--text <words>', 'words that must all occur, "quoted phrases" in order (needs --matter)')
    .option('--from <time>', 'with --text: the data as it was from this time').option('--to <time>', 'with --text: until this time')
    .option('--custodian <user...>', 'with --text: some of the matter\'s custodians').option('--type <ext...>', 'with --text: file types (pdf docx ...)')
    .option('--min-size <bytes>').option('--max-size <bytes>').option('--mtime-from <time>').option('--mtime-to <time>').option('--limit <n>', 'most results (default 1000)')
    .action(async (o: SearchOptions) => {
      if (o.text !== undefined) { await textSearch(globals(), o); return }
      const { matter: _m, user, glob, sha256 } = o
      const query = { ...(user === undefined ? {} : { user }), ...(glob === undefined ? {} : { glob }), ...(sha256 === undefined ? {} : { sha256 }) }
      const rows = await withStore(globals(), async s => await s.discovery.search(query, inMatter(o)))
      print(globals(), rows, () => rows.map(f => `${f.user}  ${new Date(f.snapshotMs).toISOString()}  ${fileLine(f)}`))
    })

  d.command('timeline').description('a user\'s snapshots over time with files added, changed, deleted')
    .requiredOption('--user <name>').option(MATTER, MATTER_HELP)
    .action(async (o: { user: string, matter?: string }) => {
      const items = await withStore(globals(), async s => await s.discovery.timeline(o.user, inMatter(o)))
      if (items.length === 0) noSnapshots(globals(), o.user)
      print(globals(), items, () => items.map(i => `${new Date(i.snapshot.timeMs).toISOString()}  ${i.snapshot.node.slice(-8)}  +${i.added} ~${i.changed} -${i.deleted}  ${i.snapshot.files} files  ${i.snapshot.cid}`))
    })

  d.command('export').description('write a point-in-time copy of a user with MANIFEST.json (provenance) and SHA256SUMS; without --user, a review export of a matter (natives deduplicated across custodians, LOADFILE.dat, CUSTODY.txt) of its custodians at a time or of a --text search\'s hits; to a folder or a tar; needs --discovery-key')
    .option('--user <name>').option('--at <time>', 'ISO-8601 time (default now)')
    .option('--to <dir>', 'an empty or new folder').option('--tar <file>', 'a tar file instead of a folder').option(MATTER, MATTER_HELP)
    .option('--custodian <user...>', 'review export: some of the matter\'s custodians').option('--text <words>', 'review export: the hits of this text search (filters as for discover search)')
    .option('--from <time>').option('--to-time <time>', 'with --text: until this time (--to is the folder)').option('--type <ext...>').option('--glob <pattern>')
    .option('--min-size <bytes>').option('--max-size <bytes>').option('--mtime-from <time>').option('--mtime-to <time>').option('--limit <n>')
    .action(async (o: SearchOptions & { user?: string, at?: string, to?: string, tar?: string, toTime?: string }) => {
      if ((o.to === undefined) === (o.tar === undefined)) throw new Error('give exactly one of --to DIR and --tar FILE')
      if (o.user === undefined) { await reviewExport(globals(), o); return }
      const folder = o.to ?? `${o.tar!}.export-${process.pid}`
      let m
      try {
        m = await withStore(globals(), async s => await s.discovery.export(o.user!, time(o.at ?? new Date().toISOString()), folder, inMatter(o)))
        if (o.tar !== undefined) await run$('tar', ['--sort=name', '--owner=0', '--group=0', '-cf', o.tar, '-C', folder, '.'])
      } finally {
        if (o.tar !== undefined) await rm(folder, { recursive: true, force: true })
      }
      print(globals(), m, () => [
        `exported ${m.files.length} files of ${m.user} at ${m.at} to ${o.tar ?? folder}${m.symlinks.length > 0 ? ` (${m.symlinks.length} symlinks recorded in MANIFEST.json, not created)` : ''}`,
        ...m.provenance.map(p => `  from ${p.node} snapshot ${p.snapshot} (${p.snapshotTime})`)
      ])
    })
}
