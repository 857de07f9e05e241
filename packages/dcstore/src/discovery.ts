import { mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Blockstore } from '@cachecloud/blockstore'
import type { Logger } from 'pino'
import { parseCid } from '@cachecloud/core'
import { decodeRecord, deriveUserKeys, SafeFolder, unwrapUserKey, walkTree, writeRestoredFile } from '@cachecloud/personal-format'
import type { AuditLog } from './audit.js'
import { EXPORT_FORMAT } from './constants.js'
import { DiscoveryKeyRequiredError, ExportTargetNotEmptyError, NoSnapshotError } from './errors.js'
import { writeFileAtomic600 as writeFileAtomic } from './fs.js'
import { Matters } from './matters.js'
import type { HoldsGuard } from './holds.js'
import { TextIndexer } from './text-indexer.js'
import { TextSearch } from './text-search.js'
import { ReviewExporter } from './review-export.js'
import type { FileRow, SearchQuery, SnapshotRow, VersionIndex } from './version-index.js'

export type TimeArg = Date | string | number

/** Runs a query or export within a matter: only its custodians, recorded against it in the audit log. */
export interface InMatter {
  matter?: string
}

export interface TreeAt {
  user: string
  atMs: number
  /** The latest snapshot of each of the user's nodes at or before the time. */
  snapshots: SnapshotRow[]
  files: FileRow[]
}

export interface TreeDiff {
  added: FileRow[]
  changed: Array<{ before: FileRow, after: FileRow }>
  deleted: FileRow[]
}

export interface TimelineItem {
  snapshot: SnapshotRow
  added: number
  changed: number
  deleted: number
}

export interface ExportManifest {
  format: typeof EXPORT_FORMAT
  user: string
  at: string
  exportedAt: string
  exportedBy: string
  /** The matter the export was made in, when one was given. */
  matter?: string
  /** Where each file came from: node, snapshot CID and time, commit time at the store. */
  provenance: Array<{ node: string, snapshot: string, snapshotTime: string, committedAt: string }>
  /** Every file written, relative to the export folder, with its SHA-256 checked against the snapshot. */
  files: Array<{ path: string, node: string, size: number, sha256: string }>
  /** Symlinks of the snapshot, recorded here and never created on the officer's disk (a link could point anywhere). */
  symlinks: Array<{ path: string, node: string, target: string }>
}

/** A `sha256sum -c` line; a name with a backslash, newline or carriage return is escaped the way GNU sha256sum does (line starts with `\`). */
export function sha256sumLine (sha256: string, path: string): string {
  if (!/[\\\n\r]/.test(path)) return `${sha256}  ${path}\n`
  return `\\${sha256}  ${path.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r')}\n`
}

export interface DiscoveryInit {
  index: VersionIndex
  audit: AuditLog
  blocksFor: (user: string) => Promise<Blockstore>
  discoveryPrivateKey?: Uint8Array
  operator: string
  /** Keeps retention out while a hold is placed (the store's holds lock). */
  guardHolds: HoldsGuard
  log?: Logger
}

const toMs = (t: TimeArg): number => typeof t === 'number' ? t : new Date(t).getTime()
const iso = (ms: number): string => new Date(ms).toISOString()
const key = (f: FileRow): string => `${f.node}\0${f.path}`

/** Legal discovery over the index and the stored snapshots; every call is written to the audit log (its intent before it runs, its outcome after). */
export class Discovery {
  /** Matters and their legal holds. */
  readonly matters: Matters
  /** The text index: built as snapshots arrive (a serving store) and on demand, searched in a matter. */
  readonly text: TextSearch
  /** Builds the text index (`text.index()` runs it once, audited; a serving store follows new snapshots with it). */
  readonly textIndexer: TextIndexer
  /** Review-ready exports of a matter (natives, DAT load file, custody report). */
  readonly review: ReviewExporter

  constructor (private readonly init: DiscoveryInit) {
    this.matters = new Matters({ index: init.index, audit: init.audit, operator: init.operator, guardHolds: init.guardHolds })
    this.textIndexer = new TextIndexer({
      index: init.index, blocksFor: init.blocksFor, ...(init.discoveryPrivateKey === undefined ? {} : { discoveryPrivateKey: init.discoveryPrivateKey }),
      ...(init.log === undefined ? {} : { log: init.log })
    })
    this.text = new TextSearch({
      index: init.index, audit: init.audit, matters: this.matters, indexer: this.textIndexer,
      ...(init.discoveryPrivateKey === undefined ? {} : { discoveryPrivateKey: init.discoveryPrivateKey })
    })
    this.review = new ReviewExporter({
      index: init.index, audit: init.audit, blocksFor: init.blocksFor, operator: init.operator, matters: this.matters, text: this.text,
      ...(init.discoveryPrivateKey === undefined ? {} : { discoveryPrivateKey: init.discoveryPrivateKey })
    })
  }

  /** The audit params of a call in a matter (after checking the user is one of its custodians). */
  private async inMatter (o: InMatter, user: string | undefined, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    if (o.matter === undefined) return params
    await this.matters.scope(o.matter, user)
    return { matter: o.matter, ...params }
  }

  private async treeAtQuiet (user: string, atMs: number): Promise<TreeAt> {
    const latest = new Map<string, SnapshotRow>()
    for (const s of await this.init.index.snapshots({ user, toMs: atMs })) latest.set(s.node, s)
    const snapshots = [...latest.values()].sort((a, b) => a.node < b.node ? -1 : 1)
    const files: FileRow[] = []
    for (const s of snapshots) files.push(...await this.init.index.files(s.cid))
    return { user, atMs, snapshots, files }
  }

  /** What the user had at a time: per node, the latest snapshot at or before it, with every file and its hash. */
  async treeAt (user: string, at: TimeArg, o: InMatter = {}): Promise<TreeAt> {
    return await this.init.audit.run('tree', await this.inMatter(o, user, { user, at: iso(toMs(at)) }), async () => await this.treeAtQuiet(user, toMs(at)),
      tree => ({ snapshots: tree.snapshots.map(s => s.cid), files: tree.files.length }))
  }

  private diffTrees (a: FileRow[], b: FileRow[]): TreeDiff {
    const before = new Map(a.map(f => [key(f), f]))
    const diff: TreeDiff = { added: [], changed: [], deleted: [] }
    for (const f of b) {
      const old = before.get(key(f))
      before.delete(key(f))
      if (old === undefined) diff.added.push(f)
      else if (old.sha256 !== f.sha256 || old.kind !== f.kind) diff.changed.push({ before: old, after: f })
    }
    diff.deleted = [...before.values()]
    return diff
  }

  /** What changed between two times; NoSnapshotError when the user has no snapshot at or before `to`. */
  async diff (user: string, from: TimeArg, to: TimeArg, o: InMatter = {}): Promise<TreeDiff> {
    return await this.init.audit.run('diff', await this.inMatter(o, user, { user, from: iso(toMs(from)), to: iso(toMs(to)) }), async () => {
      const a = await this.treeAtQuiet(user, toMs(from))
      const b = await this.treeAtQuiet(user, toMs(to))
      if (b.snapshots.length === 0) throw new NoSnapshotError(`no snapshots for user ${user} at or before ${iso(b.atMs)}`)
      return this.diffTrees(a.files, b.files)
    }, diff => ({ added: diff.added.length, changed: diff.changed.length, deleted: diff.deleted.length }))
  }

  /** File versions by path glob and/or content hash, across users unless one is given (in a matter: across its custodians). */
  async search (query: SearchQuery, o: InMatter = {}): Promise<FileRow[]> {
    const params = await this.inMatter(o, query.user, { ...query })
    return await this.init.audit.run('search', params, async () => {
      if (o.matter === undefined || query.user !== undefined) return await this.init.index.search(query)
      const rows: FileRow[] = []
      for (const user of (await this.matters.get(o.matter)).custodians) rows.push(...await this.init.index.search({ ...query, user }))
      return rows.sort((a, b) => a.snapshotMs - b.snapshotMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).slice(0, query.limit ?? rows.length)
    }, rows => ({ versions: rows.length }))
  }

  /** Every snapshot of the user, oldest first, with files added, changed and deleted since that node's previous one. */
  async timeline (user: string, o: InMatter = {}): Promise<TimelineItem[]> {
    return await this.init.audit.run('timeline', await this.inMatter(o, user, { user }), async () => await this.timelineQuiet(user), out => ({ snapshots: out.length }))
  }

  private async timelineQuiet (user: string): Promise<TimelineItem[]> {
    const previous = new Map<string, FileRow[]>()
    const out: TimelineItem[] = []
    for (const s of await this.init.index.snapshots({ user })) {
      const files = await this.init.index.files(s.cid)
      const d = this.diffTrees(previous.get(s.node) ?? [], files)
      previous.set(s.node, files)
      out.push({ snapshot: s, added: d.added.length, changed: d.changed.length, deleted: d.deleted.length })
    }
    return out
  }

  /**
   * Writes what the user had at a time into an empty folder (one subfolder per
   * node when the user has several), each file checked against the SHA-256
   * recorded at snapshot time, with MANIFEST.json (provenance and files) and
   * SHA256SUMS (`sha256sum -c` format).
   */
  async export (user: string, at: TimeArg, toDir: string, o: InMatter = {}): Promise<ExportManifest> {
    return await this.init.audit.run('export', await this.inMatter(o, user, { user, at: iso(toMs(at)), to: toDir }), async () => await this.exportQuiet(user, at, toDir, o),
      m => ({ files: m.files.length, symlinks: m.symlinks.length, snapshots: m.provenance.map(p => p.snapshot) }))
  }

  private async exportQuiet (user: string, at: TimeArg, toDir: string, o: InMatter = {}): Promise<ExportManifest> {
    const privateKey = this.init.discoveryPrivateKey
    if (privateKey === undefined) throw new DiscoveryKeyRequiredError('exporting content needs the discovery private key (--discovery-key)')
    const existing = await readdir(toDir).catch(() => [])
    if (existing.length > 0) throw new ExportTargetNotEmptyError(`${toDir} is not empty`)
    const tree = await this.treeAtQuiet(user, toMs(at))
    if (tree.snapshots.length === 0) throw new NoSnapshotError(`no snapshot of ${user} at or before ${iso(tree.atMs)}`)
    // the block store first: while another process serves the store this fails (StoreInUseError) before anything is written
    const blocks = await this.init.blocksFor(user)
    await mkdir(toDir, { recursive: true })
    const folder = await SafeFolder.open(toDir)
    const manifest: ExportManifest = {
      format: EXPORT_FORMAT,
      user,
      at: iso(tree.atMs),
      exportedAt: new Date().toISOString(),
      exportedBy: this.init.operator,
      ...(o.matter === undefined ? {} : { matter: o.matter }),
      provenance: [],
      files: [],
      symlinks: []
    }
    const perNode = tree.snapshots.length > 1
    for (const s of tree.snapshots) {
      const record = decodeRecord(await blocks.get(parseCid(s.cid)))
      const keys = deriveUserKeys(unwrapUserKey(record.keys.discovery, privateKey))
      manifest.provenance.push({ node: s.node, snapshot: s.cid, snapshotTime: iso(s.timeMs), committedAt: iso(s.committedMs) })
      for await (const { path, entry } of walkTree(blocks, keys, record.root)) {
        const rel = perNode ? `${s.node}/${path}` : path
        if (entry.kind === 'dir') await folder.mkdirs(rel)
        else if (entry.kind === 'symlink') manifest.symlinks.push({ path: rel, node: s.node, target: entry.target })
        else {
          await writeRestoredFile(blocks, keys, entry, folder, rel, path)
          manifest.files.push({ path: rel, node: s.node, size: entry.size, sha256: Buffer.from(entry.sha256).toString('hex') })
        }
      }
    }
    await writeFileAtomic(join(toDir, 'MANIFEST.json'), JSON.stringify(manifest, null, 2) + '\n')
    await writeFileAtomic(join(toDir, 'SHA256SUMS'), manifest.files.map(f => sha256sumLine(f.sha256, f.path)).join(''))
    return manifest
  }
}
